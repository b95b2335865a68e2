// Swagger UI for Gatehouse, served by the host itself (no CDN). "Try it out"
// calls this same server: click Authorize and fill in X-API-Key and
// X-Client-ID of an API client (its allowed origins must include this page's
// origin), plus a bearer access token for the authenticated routes.
window.ui = SwaggerUIBundle({
  url: '/api/schema/',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // No calls to the public validator service: the page works offline.
  validatorUrl: null,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
});
