#* @apiTitle Greeter
#* @apiDescription The compose scenario's second API, one replica, docs on: greets with GREETING from its environment.

replica <- Sys.info()[["nodename"]]
greeting <- Sys.getenv("GREETING", "GREETING is not set")

#* A greeting from the replica that answered
#* @param name Who to greet
#* @serializer unboxedJSON
#* @get /greet
function(name = "world") {
  list(greeting = paste0(greeting, ", ", name), replica = replica)
}
