#* @apiTitle Which replica answered
#* @apiDescription The compose scenario's sample API: every answer names the container that served it.

replica <- Sys.info()[["nodename"]]
header <- function(value) if (is.null(value)) "" else value

#* The replica (container host name) that answered, and the headers the proxy passed on
#* @serializer unboxedJSON
#* @get /whoami
function(req) {
  list(api = Sys.getenv("PLUMBER_API"), replica = replica, path = req$PATH_INFO,
       prefix = header(req$HTTP_X_FORWARDED_PREFIX), forwarded_for = header(req$HTTP_X_FORWARDED_FOR),
       forwarded_host = header(req$HTTP_X_FORWARDED_HOST), forwarded_proto = header(req$HTTP_X_FORWARDED_PROTO),
       balancer_header = header(req$HTTP_X_PLUMBER_BACKEND))
}

#* Answers after `seconds`: a long request
#* @serializer unboxedJSON
#* @get /slow
function(seconds = 1) {
  Sys.sleep(as.numeric(seconds))
  list(replica = replica, slept = as.numeric(seconds))
}

#* Counts the bytes of the request body: an upload
#* @serializer unboxedJSON
#* @post /upload
function(req) {
  list(replica = replica, bytes = length(req$bodyRaw))
}
