// Starts Swagger UI on /api.html from a file, so that the page runs no inline script (its
// Content-Security-Policy allows none). The OpenAPI document is per tier: the key given through
// "Authorize" is also sent when /api is fetched, and /api is fetched again when a key is given
// or removed, so that the list shows what that key may call.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  var ui = null;

  function bearerKey() {
    var key = null;
    if (ui === null) {
      return key;
    }
    ui.authSelectors.authorized().forEach(function (entry) {
      // The key given for either scheme: Bearer, or the X-API-Key header (type apiKey).
      var scheme = String(entry.getIn(["schema", "scheme"]) || "").toLowerCase();
      var type = String(entry.getIn(["schema", "type"]) || "");
      if (key === null && (scheme === "bearer" || type === "apiKey") && entry.get("value")) {
        key = entry.get("value");
      }
    });
    return key;
  }

  function thenReload(action) {
    return function (payload) {
      var result = action(payload);
      ui.specActions.download();
      return result;
    };
  }

  ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: function (request) {
      var key = request.loadSpec ? bearerKey() : null;
      if (key) {
        request.headers.Authorization = "Bearer " + key;
      }
      return request;
    },
    plugins: [
      function () {
        return {
          statePlugins: {
            auth: { wrapActions: { authorize: thenReload, logout: thenReload } }
          }
        };
      }
    ]
  });
})();
