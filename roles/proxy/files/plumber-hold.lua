-- plumber.hosting: the HAProxy action `plumber_hold`, loaded by the configuration of
-- roles/proxy/templates/plumber-haproxy.cfg.j2 (`lua-load`) when plumber_proxy.balancer.hold is set.
--
--   http-request lua.plumber_hold <backend> <seconds> if { nbsrv(<backend>) eq 0 }
--
-- While the backend has no server in rotation (a one-worker API restarting on a new release, or
-- every worker down at once), the request waits, up to <seconds>, for one to come back, checking
-- ten times a second; then it goes on as usual: to that server, or to HAProxy's 503. Waiting
-- costs no thread: core.msleep yields to HAProxy.
core.register_action("plumber_hold", { "http-req" }, function(txn, backend, seconds)
    local left = tonumber(seconds) * 10
    while left > 0 and txn.f:nbsrv(backend) == 0 do
        core.msleep(100)
        left = left - 1
    end
end, 2)
