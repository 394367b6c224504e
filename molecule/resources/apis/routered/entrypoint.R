# plumber's entrypoint.R convention: this file is sourced and the router it returns is the API.
# Plumber$new() and pr_*() without library(plumber): workers attach plumber, as plumb() users do.
# The packages come from the local CRAN-like repository: hellopkg pinned to its archived 0.1.0.
greeting <- function() hellopkg::hello()

spec <- function(spec) {
  spec$info$title <- "Routered API"
  spec$info$description <- "A router built in entrypoint.R, with its own OpenAPI spec"
  spec
}

Plumber$new() %>%
  pr_get("/hello", function() list(message = greeting()), serializer = serializer_unboxed_json()) %>%
  pr_get("/cookie", function(req, res) {
    res$setCookie("flavour", "oatmeal", path = "/")
    list(flavour = if (is.null(req$cookies$flavour)) "" else req$cookies$flavour)
  }, serializer = serializer_unboxed_json()) %>%
  pr_get("/text", function() "plain text", serializer = serializer_text()) %>%
  pr_set_api_spec(spec)
