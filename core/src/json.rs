//! Request bodies: content-type and size checks, JSON parsing, and DRF-style
//! field extraction that collects every field error at once.

use crate::error::{ApiError, FieldErrors};
use bytes::Bytes;
use http::{header, Request};
use serde_json::{Map, Value};

/// Put into a request's extensions by a host that stopped reading a body
/// over [`crate::config::MAX_BODY_BYTES`]: the body routes answer 413 in their turn (after
/// the route, API-key and content-type checks), as if it had been read.
#[derive(Debug, Clone, Copy)]
pub struct BodyTooLarge;

/// A JSON object body.
#[derive(Debug, Default)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// A body from an object already parsed (the CLI's operator actions
    /// share the admin API's field checks through it).
    pub fn from_object(map: Map<String, Value>) -> JsonBody {
        JsonBody(map)
    }
}

/// Parses a request body as a JSON object, or says why not (415, 413 over
/// `limit` bytes, 400).
pub fn parse_body(req: &Request<Bytes>, limit: usize) -> Result<JsonBody, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ApiError::unsupported_media_type(&content_type));
    }
    let body = req.body();
    if body.len() > limit || req.extensions().get::<BodyTooLarge>().is_some() {
        return Err(ApiError::payload_too_large(limit));
    }
    let text = std::str::from_utf8(body).map_err(|_| ApiError::parse_error("invalid UTF-8"))?;
    let value: Value = serde_json::from_str(text).map_err(ApiError::parse_error)?;
    match value {
        Value::Object(map) => Ok(JsonBody(map)),
        other => Err(ApiError::field(
            "non_field_errors",
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                json_type_name(&other)
            ),
        )),
    }
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// How a string field is read.
#[derive(Debug, Clone, Copy)]
pub struct StrField {
    pub name: &'static str,
    pub max_len: usize,
    /// Absent is an error ("This field is required.").
    pub required: bool,
    /// Empty is allowed (Django's `blank=True`).
    pub allow_blank: bool,
    /// Strip surrounding white space (DRF's default; not for passwords).
    pub trim: bool,
}

impl StrField {
    pub const fn required(name: &'static str, max_len: usize) -> Self {
        StrField {
            name,
            max_len,
            required: true,
            allow_blank: false,
            trim: true,
        }
    }
    pub const fn optional_blank(name: &'static str, max_len: usize) -> Self {
        StrField {
            name,
            max_len,
            required: false,
            allow_blank: true,
            trim: true,
        }
    }
    pub const fn password(name: &'static str) -> Self {
        StrField {
            name,
            max_len: 4096,
            required: true,
            allow_blank: false,
            trim: false,
        }
    }
    pub const fn required_when(self, required: bool) -> Self {
        StrField { required, ..self }
    }
}

impl JsonBody {
    /// Reads a string field; on error, records it in `errors` and returns None.
    pub fn str(&self, f: StrField, errors: &mut FieldErrors) -> Option<String> {
        let mut fail = |msg: String| {
            errors.entry(f.name.to_owned()).or_default().push(msg);
            None
        };
        let raw = match self.0.get(f.name) {
            None if f.required => return fail("This field is required.".into()),
            None => return None,
            Some(Value::Null) => return fail("This field may not be null.".into()),
            Some(Value::String(s)) => s,
            Some(_) => return fail("Not a valid string.".into()),
        };
        let s = if f.trim { raw.trim() } else { raw.as_str() };
        if s.is_empty() && !f.allow_blank {
            return fail("This field may not be blank.".into());
        }
        if s.chars().count() > f.max_len {
            return fail(format!(
                "Ensure this field has no more than {} characters.",
                f.max_len
            ));
        }
        if s.contains('\0') {
            return fail("Null characters are not allowed.".into());
        }
        Some(s.to_owned())
    }

    /// Reads the string `fields` in order: their field errors (400) if any,
    /// else their values (None when one may be absent and is).
    pub fn strs<const N: usize>(
        &self,
        fields: [StrField; N],
    ) -> Result<Option<[String; N]>, ApiError> {
        let mut errors = FieldErrors::new();
        let values = fields.map(|f| self.str(f, &mut errors));
        check(errors)?;
        Ok(values
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.try_into().ok()))
    }
}

impl JsonBody {
    /// A field's JSON value as sent (a nested object a handler reads whole).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Is the field present and null?
    pub fn is_null(&self, name: &str) -> bool {
        matches!(self.0.get(name), Some(Value::Null))
    }

    /// Is the field present (even as null)?
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Reads an optional boolean field (a JSON `true`/`false`).
    pub fn bool(&self, name: &str, errors: &mut FieldErrors) -> Option<bool> {
        match self.0.get(name)? {
            Value::Bool(b) => Some(*b),
            _ => {
                push(errors, name, "Must be a valid boolean.");
                None
            }
        }
    }

    /// Reads an integer field in `min..=max` (`required`: absent is an error).
    pub fn int(
        &self,
        name: &str,
        required: bool,
        min: i64,
        max: i64,
        errors: &mut FieldErrors,
    ) -> Option<i64> {
        let v = match self.0.get(name) {
            None if required => {
                push(errors, name, "This field is required.");
                return None;
            }
            None => return None,
            Some(v) => v,
        };
        let Some(n) = v.as_i64().or_else(|| {
            // DRF accepts integral strings and floats ("5", 5.0) too.
            v.as_str()
                .and_then(|s| s.trim().parse().ok())
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        }) else {
            push(errors, name, "A valid integer is required.");
            return None;
        };
        if n < min {
            push(
                errors,
                name,
                format!("Ensure this value is greater than or equal to {min}."),
            );
            return None;
        }
        if n > max {
            push(
                errors,
                name,
                format!("Ensure this value is less than or equal to {max}."),
            );
            return None;
        }
        Some(n)
    }

    /// Reads an optional list of strings (each at most `max_len` characters).
    pub fn str_list(
        &self,
        name: &str,
        max_len: usize,
        errors: &mut FieldErrors,
    ) -> Option<Vec<String>> {
        let items = match self.0.get(name)? {
            Value::Array(items) => items,
            other => {
                push(
                    errors,
                    name,
                    format!(
                        "Expected a list of items but got type \"{}\".",
                        json_type_name(other)
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str() {
                Some(s) if s.chars().count() <= max_len && !s.contains('\0') => {
                    out.push(s.trim().to_owned())
                }
                Some(_) => {
                    push(
                        errors,
                        name,
                        format!("Ensure each item has no more than {max_len} characters."),
                    );
                    return None;
                }
                None => {
                    push(errors, name, "Not a valid string.");
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// `Ok(())` when no field errors were recorded.
pub fn check(errors: FieldErrors) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Fields(errors))
    }
}

/// Adds a message to a field.
pub fn push(errors: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    errors.entry(field.to_owned()).or_default().push(msg.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At the hosts' limit, as most routes have it.
    fn parse_body(r: &Request<Bytes>) -> Result<JsonBody, ApiError> {
        super::parse_body(r, crate::config::MAX_BODY_BYTES)
    }

    #[test]
    fn a_body_over_the_routes_limit_is_413_naming_it() {
        let body = br#"{"refresh": "0123456789"}"#;
        let r = req(Some("application/json"), body);
        assert!(super::parse_body(&r, body.len()).is_ok());
        let e = super::parse_body(&r, body.len() - 1).unwrap_err();
        assert_eq!(e, ApiError::payload_too_large(body.len() - 1));
        assert_eq!(e.status(), 413);
    }

    fn req(ct: Option<&str>, body: &[u8]) -> Request<Bytes> {
        let mut b = Request::builder().method("POST").uri("/");
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(Bytes::copy_from_slice(body)).unwrap()
    }

    #[test]
    fn content_type_must_be_json() {
        assert_eq!(parse_body(&req(None, b"{}")).unwrap_err().status(), 415);
        assert_eq!(
            parse_body(&req(Some("text/plain"), b"{}"))
                .unwrap_err()
                .status(),
            415
        );
        assert!(parse_body(&req(Some("application/json; charset=utf-8"), b"{}")).is_ok());
    }

    #[test]
    fn malformed_and_non_object_bodies_are_400() {
        let e = parse_body(&req(Some("application/json"), b"{\"a\":")).unwrap_err();
        assert!(matches!(
            e,
            ApiError::Detail {
                code: "parse_error",
                ..
            }
        ));
        let e = parse_body(&req(Some("application/json"), b"\xff\xfe")).unwrap_err();
        assert!(matches!(
            e,
            ApiError::Detail {
                code: "parse_error",
                ..
            }
        ));
        let e = parse_body(&req(Some("application/json"), b"[1]")).unwrap_err();
        assert_eq!(
            e,
            ApiError::field(
                "non_field_errors",
                "Invalid data. Expected a dictionary, but got list."
            )
        );
    }

    #[test]
    fn string_fields_collect_every_error() {
        let body = parse_body(&req(
            Some("application/json"),
            br#"{"a": 1, "b": "  ", "d": "xxxxx", "e": "a\u0000b"}"#,
        ))
        .unwrap();
        let mut errors = FieldErrors::new();
        assert_eq!(body.str(StrField::required("a", 10), &mut errors), None);
        assert_eq!(body.str(StrField::required("b", 10), &mut errors), None);
        assert_eq!(body.str(StrField::required("c", 10), &mut errors), None);
        assert_eq!(body.str(StrField::required("d", 4), &mut errors), None);
        assert_eq!(body.str(StrField::required("e", 4), &mut errors), None);
        assert_eq!(errors["a"], vec!["Not a valid string."]);
        assert_eq!(errors["b"], vec!["This field may not be blank."]);
        assert_eq!(errors["c"], vec!["This field is required."]);
        assert_eq!(
            errors["d"],
            vec!["Ensure this field has no more than 4 characters."]
        );
        assert_eq!(errors["e"], vec!["Null characters are not allowed."]);
    }
}
