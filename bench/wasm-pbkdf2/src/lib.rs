use sha2::Sha256;
#[no_mangle]
pub extern "C" fn pbkdf2_sha256(iterations: u32) -> u32 {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(b"correct horse", b"kkqqrrT9y3ywv0GnBan7yF", iterations, &mut out);
    u32::from(out[0])
}
