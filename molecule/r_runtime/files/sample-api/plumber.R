#* Echo a message back
#* @param msg The message to echo
#* @get /echo
function(msg = "") {
  list(msg = jsonlite::unbox(paste0("The message is: '", msg, "'")))
}
