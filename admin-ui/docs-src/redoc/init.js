// Redoc for Gatehouse, served by the host itself (no CDN, no web fonts).
Redoc.init('/api/schema/', {
  hideDownloadButton: false,
  expandResponses: '200,201',
  theme: { colors: { primary: { main: '#4f46e5' } }, typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' } } },
}, document.getElementById('redoc'));
