-- wrk script: POST an OTLP/HTTP logs body whose records are new in every request.
-- Derived from perf/otlp_post_unique.lua of the project's performance anchors
-- (shared/reference/perf/otlp_post_unique.lua: "like otlp_post.lua, but makes trace/span ids
-- unique per request"), adapted to logs and gzip:
--   * the body comes from bench/gen_bodies.py (logs_N_uniq.pb or logs_N_uniq.pb.gz): every
--     record's time_unix_nano holds the 4-byte marker A5 5A C3 3C, which is replaced per request
--     by SALT + a 3-byte counter (at most 16.7M requests per run; give each run its own SALT);
--   * instead of a gsub over the body per request, the body is split at the markers once and
--     re-joined with the request's id (table.concat), which keeps wrk's cost per request low;
--   * with CONTENT_ENCODING gzip the template's markers sit in stored deflate blocks, and the
--     gzip trailer's CRC-32 is recomputed from the 32 constants in BODY_FILE.crc (CRC-32 is
--     affine in the substituted bits), so every gzip request is valid and unique too.
-- usage: wrk -t1 -c16 -d10s -s otlp_post_unique.lua http://127.0.0.1:PORT/v1/logs \
--          -- BODY_FILE [CONTENT_TYPE] [CONTENT_ENCODING] [SALT]
local bit = require("bit")
local marker = string.char(0xA5, 0x5A, 0xC3, 0x3C)
local parts, keys, crc0, isize = nil, nil, 0, 0
local salt, counter = 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads - 1)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local function split(s, sep)
  local out, i = {}, 1
  while true do
    local j = string.find(s, sep, i, true)
    if not j then
      out[#out + 1] = s:sub(i)
      return out
    end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + #sep
  end
end

local function le32(x)
  return string.char(bit.band(x, 0xFF), bit.band(bit.rshift(x, 8), 0xFF),
                     bit.band(bit.rshift(x, 16), 0xFF), bit.band(bit.rshift(x, 24), 0xFF))
end

function init(args)
  local path = args[1] or error("usage: -- BODY_FILE [CONTENT_TYPE] [CONTENT_ENCODING] [SALT]")
  local body = read_file(path)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2] or "application/x-protobuf"
  wrk.headers["User-Agent"] = "wrk-otlp-bench"
  if args[3] and args[3] ~= "" then
    wrk.headers["Content-Encoding"] = args[3]
  end
  salt = (tonumber(args[4] or "0") + 37 * (tid or 0)) % 256
  if args[3] == "gzip" then
    local nums = {}
    for n in read_file(path .. ".crc"):gmatch("%d+") do nums[#nums + 1] = tonumber(n) end
    assert(#nums == 34, "bad .crc file (need ISIZE CRC0 K0..K31)")
    isize, crc0, keys = nums[1], nums[2], {}
    for k = 1, 32 do keys[k] = nums[k + 2] end
    body = body:sub(1, -9)  -- without the trailer (CRC-32, ISIZE), rebuilt per request
  end
  parts = split(body, marker)
  assert(#parts > 1, "no marker in " .. path)
end

function request()
  if not parts then return wrk.format() end  -- wrk's pre-init probe call
  counter = counter + 1
  local b = { salt, math.floor(counter / 65536) % 256, math.floor(counter / 256) % 256, counter % 256 }
  local id = string.char(b[1], b[2], b[3], b[4])
  local body = table.concat(parts, id)
  if keys then
    local crc = crc0
    for k = 0, 31 do
      if bit.band(b[bit.rshift(k, 3) + 1], bit.lshift(1, bit.band(k, 7))) ~= 0 then
        crc = bit.bxor(crc, keys[k + 1])
      end
    end
    body = body .. le32(crc) .. le32(isize)
  end
  return wrk.format(nil, nil, nil, body)
end
