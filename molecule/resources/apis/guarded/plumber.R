# An API shaped like real ones: an authentication filter in front of every route, a router mounted
# in a `#* @plumber` block with plumber's own `%>%` (no library(plumber) here: workers attach it),
# static files, cookies, an upload, a promise and a CSV answer. The token comes from `env`.

#* @filter auth
function(req, res) {
  if (!identical(req$HTTP_AUTHORIZATION, paste("Bearer", Sys.getenv("API_TOKEN")))) {
    res$status <- 401
    return(list(error = "missing or wrong token"))
  }
  plumber::forward()
}

#* @plumber
function(pr) {
  reports <- pr() %>% pr_get("/daily", function() list(report = "daily"), serializer = serializer_unboxed_json())
  pr %>% pr_mount("/reports", reports)
}

#* @assets ./static /static
list()

#* Counts visits in a cookie
#* @serializer unboxedJSON
#* @get /visits
function(req, res) {
  visits <- as.integer(if (is.null(req$cookies$visits)) 0 else req$cookies$visits) + 1L
  res$setCookie("visits", visits)
  list(visits = visits)
}

#* Sizes of the uploaded files (multipart/form-data)
#* @serializer unboxedJSON
#* @post /upload
function(req) {
  parts <- mime::parse_multipart(req)
  list(files = length(parts), bytes = sum(vapply(parts, function(p) if (is.list(p)) file.size(p$datapath) else nchar(p), numeric(1))))
}

#* An answer computed by a promise
#* @serializer unboxedJSON
#* @get /later
function() {
  promises::promise(function(resolve, reject) later::later(function() resolve(list(later = TRUE)), 0.1))
}

#* The variable TRICKY of `env`, as the worker sees it
#* @serializer unboxedJSON
#* @get /tricky
function() {
  list(tricky = Sys.getenv("TRICKY"))
}

#* Rows as CSV
#* @serializer contentType list(type = "text/csv")
#* @get /table
function() {
  paste0("x,y\n", paste(1:2, c("a", "b"), sep = ",", collapse = "\n"), "\n")
}

#* A digest: the package is listed in `packages` and comes from Debian's binary (CRAN is not reachable)
#* @serializer unboxedJSON
#* @get /digest
function(text = "plumber") {
  list(md5 = digest::digest(text, algo = "md5", serialize = FALSE))
}

#* Base64: a package nobody listed, found in this code and installed from Debian's binary
#* @serializer unboxedJSON
#* @get /base64
function(text = "plumber") {
  list(base64 = base64enc::base64encode(charToRaw(text)))
}
