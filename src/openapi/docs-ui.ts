import { BEARER_SCHEME } from './api-errors.js';

export const DOCS_PATH = '/api/docs';
export const DOCS_JSON_PATH = '/api/docs-json';
/** Where the UI page loads its start-up script from (SwaggerModule's page names it relative to itself). */
export const DOCS_INIT_SCRIPT_PATH = `${DOCS_PATH}/swagger-ui-init.js`;
/** Session-storage key the UI keeps the token under (one browser tab, gone when it closes). */
export const DOCS_TOKEN_KEY = 'cs2-ssh-pool.api-token';

/** Ids of the page's token form, for the browser test and anyone scripting the page. */
export const DOCS_TOKEN_FORM = { form: 'cs2-token-form', input: 'cs2-token', message: 'cs2-token-message' } as const;

/**
 * The UI's start-up script, served in place of SwaggerModule's: that one embeds the whole document,
 * which would publish it without a token. This one asks for the token in a small form on the page
 * (never a blocking `window.prompt`, which a headless browser waits on for ever), keeps it for the tab,
 * then loads the document from the protected JSON URL. The token goes on same-origin requests only
 * (the document and "Try it out") and into Swagger UI's own Authorize dialog; a 401 forgets it and
 * shows the form again.
 */
export const DOCS_INIT_SCRIPT = `'use strict';
(function () {
  var KEY = ${JSON.stringify(DOCS_TOKEN_KEY)};
  var SCHEME = ${JSON.stringify(BEARER_SCHEME)};
  var IDS = ${JSON.stringify(DOCS_TOKEN_FORM)};
  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; } catch (e) { return false; }
  }
  function stored() {
    return window.sessionStorage.getItem(KEY) || '';
  }
  function tokenForm() {
    var form = document.getElementById(IDS.form);
    if (form) return form;
    form = document.createElement('form');
    form.id = IDS.form;
    form.style.cssText = 'font-family:sans-serif;max-width:1420px;margin:16px auto;padding:0 20px';
    var label = document.createElement('label');
    label.htmlFor = IDS.input;
    label.textContent = 'API bearer token (kept in this browser tab only) ';
    var input = document.createElement('input');
    input.id = IDS.input;
    input.type = 'password';
    input.autocomplete = 'off';
    input.size = 48;
    input.required = true;
    var button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'Load the API document';
    var message = document.createElement('p');
    message.id = IDS.message;
    message.setAttribute('role', 'alert');
    form.append(label, input, ' ', button, message);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var value = input.value.trim();
      if (!value) return;
      window.sessionStorage.setItem(KEY, value);
      input.value = '';
      form.hidden = true;
      load(value);
    });
    document.body.insertBefore(form, document.body.firstChild);
    return form;
  }
  function askForToken(text) {
    var form = tokenForm();
    form.hidden = false;
    document.getElementById(IDS.message).textContent = text || '';
    document.getElementById(IDS.input).focus();
  }
  function load(token) {
    window.ui = SwaggerUIBundle({
      url: ${JSON.stringify(DOCS_JSON_PATH)},
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: 'StandaloneLayout',
      requestInterceptor: function (request) {
        var value = stored();
        if (value && sameOrigin(request.url) && !request.headers.Authorization) request.headers.Authorization = 'Bearer ' + value;
        return request;
      },
      responseInterceptor: function (response) {
        if (response.status === 401 && sameOrigin(response.url)) {
          window.sessionStorage.removeItem(KEY);
          askForToken('The service refused that token (401): enter a valid one.');
        }
        return response;
      },
      onComplete: function () {
        window.ui.preauthorizeApiKey(SCHEME, token);
      }
    });
  }
  window.onload = function () {
    var token = stored();
    if (token) load(token);
    else askForToken('');
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
