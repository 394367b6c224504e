#* @apiTitle Hello from plumber.hosting
#* @apiDescription The sample API of the demo and the tests: every answer names the worker that served it.

#* Which worker answered
#* @serializer unboxedJSON
#* @get /whoami
function() {
  list(api = Sys.getenv("PLUMBER_API"), worker = as.integer(Sys.getenv("PLUMBER_WORKER")), pid = Sys.getpid(),
       host = Sys.info()[["nodename"]])
}

#* Echo back the input
#* @param msg The message to echo
#* @serializer unboxedJSON
#* @get /echo
function(msg = "") {
  list(msg = paste0("The message is: '", msg, "'"), worker = as.integer(Sys.getenv("PLUMBER_WORKER")))
}
