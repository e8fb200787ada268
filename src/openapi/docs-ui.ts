export const DOCS_PATH = '/api/docs';
export const DOCS_JSON_PATH = '/api/docs-json';
/** Where the UI page loads its start-up script from (SwaggerModule's page names it relative to itself). */
export const DOCS_INIT_SCRIPT_PATH = `${DOCS_PATH}/swagger-ui-init.js`;
/** Session-storage key the UI keeps the token under (one browser tab, gone when it closes). */
export const DOCS_TOKEN_KEY = 'cs2-ssh-pool.api-token';

/**
 * The UI's start-up script, served in place of SwaggerModule's: that one embeds the whole document,
 * which would publish it without a token. This one loads the document from the protected JSON URL,
 * asking once per tab for the token and adding it to same-origin requests only (the document and
 * "Try it out"); a 401 forgets it, so that reloading the page asks again.
 */
export const DOCS_INIT_SCRIPT = `'use strict';
(function () {
  var KEY = ${JSON.stringify(DOCS_TOKEN_KEY)};
  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; } catch (e) { return false; }
  }
  function token() {
    var value = window.sessionStorage.getItem(KEY);
    if (!value) {
      value = (window.prompt('API bearer token for this service (kept in this browser tab only)') || '').trim();
      if (value) window.sessionStorage.setItem(KEY, value);
    }
    return value;
  }
  window.onload = function () {
    window.ui = SwaggerUIBundle({
      url: ${JSON.stringify(DOCS_JSON_PATH)},
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: 'StandaloneLayout',
      requestInterceptor: function (request) {
        if (sameOrigin(request.url) && !request.headers.Authorization) {
          var value = token();
          if (value) request.headers.Authorization = 'Bearer ' + value;
        }
        return request;
      },
      responseInterceptor: function (response) {
        if (response.status === 401) window.sessionStorage.removeItem(KEY);
        return response;
      }
    });
  };
})();
`;

/**
 * The UI's static shell, public so that a browser can open the page: swagger-ui's own files and
 * the script above, none of which says anything about this service. Everything else under
 * `/api/docs*` (the document above all) needs the token. Lower case: Express matches routes
 * without regard to case.
 */
export const PUBLIC_DOCS_FILES: ReadonlySet<string> = new Set(
  ['', '/', '/index.html', '/swagger-ui.css', '/swagger-ui-bundle.js', '/swagger-ui-standalone-preset.js', '/favicon-16x16.png', '/favicon-32x32.png'].map(
    (file) => `${DOCS_PATH}${file}`,
  ),
);
