-- wrk script: sends one fixed request and checks every response.
--
-- Usage: wrk ... -s check.lua URL -- METHOD EXPECT [BODY [AUTHORIZATION]]
--   METHOD         GET or POST
--   EXPECT         text every good response body must contain
--   BODY           form body for POST ("" for none)
--   AUTHORIZATION  value of the Authorization header ("" for none)
--
-- A response counts as an error when its status is not 200 or its body lacks
-- EXPECT; wrk itself only counts socket errors and non-2xx/3xx statuses, which
-- would let a 200 with an error page pass as a success. The totals are printed
-- as one "BENCH key=value ..." line that run.py parses.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local req
local expect
-- Globals, not locals: done() reads them from each thread with thread:get().
checked = 0
bad_status = 0
bad_body = 0
first_bad = nil

function init(args)
  local method, body, auth = args[1] or "GET", args[3] or "", args[4] or ""
  expect = args[2] or ""
  -- Start from wrk's own headers: Host, and any given with -H.
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  if auth ~= "" then
    headers["Authorization"] = auth
  end
  -- Built once: the load generator should spend its CPU on sending, not on
  -- formatting the same request again.
  req = wrk.format(method, nil, headers, body ~= "" and body or nil)
end

function request()
  return req
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif not string.find(body, expect, 1, true) then
    bad_body = bad_body + 1
  else
    return
  end
  -- Keep the first bad answer so the report can show what went wrong.
  if first_bad == nil then
    first_bad = status .. " " .. string.sub(body or "", 1, 200):gsub("%s+", " ")
  end
end

function done(summary, latency, requests)
  local total_checked, total_status, total_body, sample = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    total_checked = total_checked + t:get("checked")
    total_status = total_status + t:get("bad_status")
    total_body = total_body + t:get("bad_body")
    local s = t:get("first_bad")
    if s ~= nil and sample == "" then
      sample = s
    end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH requests=%d checked=%d bad_status=%d bad_body=%d socket_errors=%d "
      .. "duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, total_checked, total_status, total_body, socket_errors,
    summary.duration, latency:percentile(50), latency:percentile(99)))
  if sample ~= "" then
    io.write("BENCH_SAMPLE " .. sample .. "\n")
  end
end
