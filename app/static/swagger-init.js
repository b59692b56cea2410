// Starts Swagger UI on /docs (kept out of the page so its CSP can forbid inline scripts).
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: node.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true});
});
