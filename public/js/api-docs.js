// Starts Swagger UI on /api/docs (a file, not an inline script, so the page's Content-Security-Policy stays strict).
window.addEventListener('DOMContentLoaded', () => {
  window.SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#api-docs',
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
