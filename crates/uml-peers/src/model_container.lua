-- The model container rule (rules/model_container.uml) as a Fluent Bit Lua
-- filter would run it on LuaJIT: the host frames the CRI line and writes the
-- record; this script gets the container's line and returns the payload's
-- level, message, exc_info and request_id (nil for the last two when they are
-- absent), or nothing when the rule drops the line.
--
-- `json_decode(text)` is the host's: the object as a table, or nil when the
-- text is not a JSON object (lua-cjson's `decode`, with its `null` as a light
-- userdata). `json_encode(value)` writes a table back as compact JSON.
-- The rule's `??` passes over that null as over a missing key. Lua's numbers
-- are doubles: a JSON `20.0` is `20` here, a level where uml's `level`
-- fails on the float.
--
-- Lua has no regular expressions; each of the rule's regexes is written with
-- Lua patterns and, for its alternations, a lookup of the word it captured.

local json_decode, json_encode = json_decode, json_encode
local find, match, sub, byte, lower = string.find, string.match, string.sub, string.byte, string.lower
local concat = table.concat

local DEBUG, INFO, WARNING, ERROR = "DEBUG", "INFO", "WARNING", "ERROR"

-- The level spellings of docs/contract.md, "Levels", lowercase.
local SPELLINGS = {
  debug = DEBUG, debu = DEBUG, debg = DEBUG, dbug = DEBUG, trace = DEBUG, trac = DEBUG, v = DEBUG, d = DEBUG,
  ["[d]"] = DEBUG, ["[v]"] = DEBUG,
  info = INFO, i = INFO, ["[i]"] = INFO, notice = INFO, normal = INFO,
  warning = WARNING, warn = WARNING, w = WARNING, ["[w]"] = WARNING,
  error = ERROR, erro = ERROR, eror = ERROR, e = ERROR, ["[e]"] = ERROR, ["[f]"] = ERROR, critical = ERROR,
  crit = ERROR, fatal = ERROR, fata = ERROR, f = ERROR, pani = ERROR, panic = ERROR,
}

-- The length of the Unicode White_Space character at byte `i` of `s` (the
-- rule's `trim` and `\s`), or nil: ASCII's six, U+0085, U+00A0, U+1680,
-- U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
local function space_at(s, i)
  local b = byte(s, i)
  if b == 32 or (b and b >= 9 and b <= 13) then
    return 1
  elseif b == 0xc2 then
    local c = byte(s, i + 1)
    if c == 0x85 or c == 0xa0 then
      return 2
    end
  elseif b == 0xe1 then
    local c, d = byte(s, i + 1, i + 2)
    if c == 0x9a and d == 0x80 then
      return 3
    end
  elseif b == 0xe2 then
    local c, d = byte(s, i + 1, i + 2)
    if (c == 0x80 and d and ((d >= 0x80 and d <= 0x8a) or d == 0xa8 or d == 0xa9 or d == 0xaf))
      or (c == 0x81 and d == 0x9f) then
      return 3
    end
  elseif b == 0xe3 then
    local c, d = byte(s, i + 1, i + 2)
    if c == 0x80 and d == 0x80 then
      return 3
    end
  end
  return nil
end

-- The length of the White_Space character that ends at byte `i`, or nil
-- (the text is UTF-8: a continuation byte is never ASCII).
local function space_before(s, i)
  if i < 1 then
    return nil
  elseif space_at(s, i) == 1 then
    return 1
  elseif i >= 2 and space_at(s, i - 1) == 2 then
    return 2
  elseif i >= 3 and space_at(s, i - 2) == 3 then
    return 3
  end
  return nil
end

-- The byte after the run of whitespace starting at `i` (`i` without one).
local function skip_space(s, i)
  local n = space_at(s, i)
  while n do
    i = i + n
    n = space_at(s, i)
  end
  return i
end

-- Whether `s` holds whitespace (the rule's `\s`, which is Unicode's).
local function has_space(s)
  if find(s, "%s") then
    return true
  end
  local at = find(s, "[\194\225\226\227]")
  while at do
    if space_at(s, at) then
      return true
    end
    at = find(s, "[\194\225\226\227]", at + 1)
  end
  return false
end

-- `s` without trailing whitespace.
local function trim_end(s)
  local last = #s
  local n = space_before(s, last)
  while n do
    last = last - n
    n = space_before(s, last)
  end
  return sub(s, 1, last)
end

-- `s` without surrounding whitespace.
local function trim(s)
  return trim_end(sub(s, skip_space(s, 1)))
end

-- `level(name)`: a spelling, in any case, with surrounding whitespace.
local function level_of_name(name)
  local word = trim(name)
  if #word > 8 then
    return nil
  end
  return SPELLINGS[lower(word)]
end

-- A level number on a scale: Python's `logging` (10 DEBUG … 50 CRITICAL),
-- syslog's severity (0 emergency … 7 debug) or pino's and bunyan's (10
-- trace … 60 fatal), each rounded down; nil for what names none.
local SCALES = {
  python = { 20, 30, 40 },
  pino = { 30, 40, 50 },
}

local function level_of_number(n, scale)
  if n ~= n or n < 0 or n ~= math.floor(n) then
    return nil
  elseif scale == "syslog" then
    if n <= 3 then
      return ERROR
    elseif n == 4 then
      return WARNING
    elseif n <= 6 then
      return INFO
    elseif n == 7 then
      return DEBUG
    end
    return nil
  end
  local bounds = SCALES[scale]
  if n < bounds[1] then
    return DEBUG
  elseif n < bounds[2] then
    return INFO
  elseif n < bounds[3] then
    return WARNING
  end
  return ERROR
end

-- `level(value, scale: scale)`: a spelling, or a whole number (a JSON
-- number, or a string of ASCII digits) on the scale. Lua's numbers are
-- doubles: a JSON `20.0` reads as `20`, where uml fails on the float.
local function level_on_scale(value, scale)
  local t = type(value)
  if t == "number" then
    return level_of_number(value, scale)
  elseif t == "string" then
    local level = level_of_name(value)
    if level then
      return level
    end
    local digits = trim(value)
    if find(digits, "^%d+$") then
      return level_of_number(tonumber(digits), scale)
    end
  end
  return nil
end

-- `level(value)`: only a string naming a spelling.
local function level_of(value)
  if type(value) == "string" then
    return level_of_name(value)
  end
  return nil
end

-- `to_string(value) ?? encode_json(value)`: nil for null (and for nil).
local function text_of(value)
  local t = type(value)
  if t == "string" then
    return value
  elseif t == "number" then
    if value == math.floor(value) and value > -2^53 and value < 2^53 then
      return string.format("%d", value)
    end
    return json_encode(value)
  elseif t == "boolean" then
    return tostring(value)
  elseif t == "table" then
    return json_encode(value)
  end
  return nil
end

-- `s` without ANSI escape sequences: CSI (`ESC [ … final`), control strings
-- (`ESC ]`, `P`, `X`, `^`, `_` up to BEL or `ESC \`) and two-byte escapes.
local function strip_ansi(s)
  local at = find(s, "\27", 1, true)
  if not at then
    return s
  end
  local out, copied = {}, 1
  while at do
    out[#out + 1] = sub(s, copied, at - 1)
    local e = at + 1
    local c = byte(s, e)
    if c == 91 then -- [
      e = e + 1
      local b = byte(s, e)
      while b and b >= 0x20 and b <= 0x3f do
        e = e + 1
        b = byte(s, e)
      end
      if b and b >= 0x40 and b <= 0x7e then
        e = e + 1
      end
    elseif c == 93 or c == 80 or c == 88 or c == 94 or c == 95 then -- ] P X ^ _
      local stop = find(s, "[\7\27]", e + 1)
      if not stop then
        e = #s + 1
      elseif byte(s, stop) == 7 then
        e = stop + 1
      elseif byte(s, stop + 1) == 92 then -- ESC \
        e = stop + 2
      else
        e = stop
      end
    elseif c and c >= 0x20 and c <= 0x2f then
      local b = c
      while b and b >= 0x20 and b <= 0x2f do
        e = e + 1
        b = byte(s, e)
      end
      if b and b >= 0x30 and b <= 0x7e then
        e = e + 1
      end
    elseif c and c >= 0x30 and c <= 0x7e then
      e = e + 1
    end
    copied = e
    at = find(s, "\27", copied, true)
  end
  out[#out + 1] = sub(s, copied)
  return concat(out)
end

-- What follows the last `\n`: a traceback's final line.
local function last_line(s)
  return match(s, "([^\n]*)$")
end

-- The words each level-format regex of the rule accepts.
local UVICORN = { TRACE = true, DEBUG = true, INFO = true, WARNING = true, ERROR = true, CRITICAL = true }
local PYTHON = { DEBUG = true, INFO = true, WARNING = true, WARN = true, ERROR = true, CRITICAL = true, FATAL = true }
local VLLM = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" }
local TRACING = { TRACE = true, DEBUG = true, INFO = true, WARN = true, ERROR = true }
local FASTCHAT = { DEBUG = true, INFO = true, WARNING = true, ERROR = true, CRITICAL = true }
local FASTCHAT_LOGGER = { ["ERROR err"] = true, ["ERROR out"] = true, ["INFO err"] = true, ["INFO out"] = true }
local LOGURU = { TRACE = true, DEBUG = true, INFO = true, SUCCESS = true, WARNING = true, ERROR = true, CRITICAL = true }
local BRACKETED = PYTHON

local KLOG = "^([IWEF])%d%d%d%d %d%d:%d%d:%d%d%.%d%d%d%d%d%d +%d+ [^ %]]+:%d+%] ?(.*)$"
local KLOG_YEAR = "^([IWEF])%d%d%d%d%d%d%d%d %d%d:%d%d:%d%d%.%d%d%d%d%d%d +%d+ [^ %]]+:%d+%] ?(.*)$"
local DATE_TIME = "^%d%d%d%d%-%d%d%-%d%d[ T]%d%d:%d%d:%d%d(.*)$"
local ISO_TIME = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d(.*)$"
local SPACED_TIME = "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d(.*)$"
local VLLM_TIME = " %d%d%-%d%d %d%d:%d%d:%d%d()"
local FASTCHAT_HEAD = "^ | (%u+) +| std(%l+) | (%u+):()"
local ABSL = "^%.%d+: ([IWEF]) (%S+) (.*)$"
local ABSL_EPOCH = "^([IWEF])%d%d%d%d %d%d:%d%d:%d+%.%d+ +%d+ (%S+) (.*)$"
local BRACKETED_LEVEL = "^([^%[]*)%[(%u+)%] (.*)$"

-- What follows a timestamp that `pattern` matches at the start of `text`
-- and its fraction, if `fraction` matches one; nil without a timestamp.
local function after_time(text, pattern, fraction)
  local rest = match(text, pattern)
  if rest then
    return match(rest, fraction) or rest
  end
  return nil
end

-- Whether `token`, a run of `%S` (which takes the bytes of a Unicode space
-- for text), is the rule's `\S+:[0-9]+` followed by `suffix`.
local function file_line(token, suffix)
  return find(token, "^.+:%d+" .. suffix .. "$") ~= nil and not has_space(token)
end

-- The vLLM format: `(?P<head>.*?)LEVEL MM-DD hh:mm:ss(.frac)? (?P<msg>.*)`,
-- the level word at its leftmost place; head and message joined.
local function vllm(text)
  local from = 1
  while true do
    local at, _, after = find(text, VLLM_TIME, from)
    if not at then
      return nil
    end
    for _, word in ipairs(VLLM) do
      local start = at - #word
      if start >= 1 and sub(text, start, at - 1) == word then
        local rest = sub(text, after)
        local message = match(rest, "^%.%d+ (.*)$") or match(rest, "^ (.*)$")
        if message then
          return word, sub(text, 1, start - 1) .. message
        end
        break
      end
    end
    from = at + 1
  end
end

-- The level and message of a line that is not a JSON object, in the rule's
-- order of formats.
local function plain(text)
  local l, message = match(text, KLOG)
  if not l then
    l, message = match(text, KLOG_YEAR)
  end
  if l then
    return level_of_name(l) or INFO, message
  end

  -- uvicorn, Python's default format: `LEVEL:(?:\s+|[^\s:]*:)(?P<msg>.*)`.
  local word, after = match(text, "^(%u+):()")
  if word and UVICORN[word] then
    local from = skip_space(text, after)
    if from > after then
      return level_of_name(word) or INFO, sub(text, from)
    end
    local colon = find(text, ":", after, true)
    if colon and not has_space(sub(text, after, colon - 1)) then
      return level_of_name(word) or INFO, sub(text, colon + 1)
    end
  end

  local rest = after_time(text, DATE_TIME, "^[.,]%d+(.*)$")
  if rest then
    local logger
    logger, word, message = match(rest, "^ %- (%S+) %- (%u+) %- (.*)$")
    if not (word and PYTHON[word] and not has_space(logger)) then
      word, message = match(rest, "^ %- (%u+) %- (.*)$")
    end
    if word and PYTHON[word] then
      return level_of_name(word) or INFO, message
    end
  end

  word, message = vllm(text)
  if word then
    return level_of_name(word) or INFO, message
  end

  -- Rust `tracing`: `Z\s+LEVEL\s+(?P<msg>(?s:.*))`.
  rest = after_time(text, ISO_TIME, "^%.%d+(.*)$")
  if rest and byte(rest) == 90 then -- Z
    local from = skip_space(rest, 2)
    if from > 2 then
      word, after = match(rest, "^(%u+)()", from)
      if word and TRACING[word] then
        local start = skip_space(rest, after)
        if start > after then
          return level_of_name(word) or INFO, sub(rest, start)
        end
      end
    end
  end

  rest = match(text, SPACED_TIME)
  if rest then
    -- FastChat re-logging a printed line:
    -- `| (?:ERROR|INFO) +\| std(?:err|out) \| (?P<lvl>LEVEL):\s+(?P<msg>.*)`.
    local logged, stream
    logged, stream, word, after = match(rest, FASTCHAT_HEAD)
    if logged and FASTCHAT_LOGGER[logged .. " " .. stream] and FASTCHAT[word] then
      local from = skip_space(rest, after)
      if from > after then
        return level_of_name(word) or INFO, sub(rest, from)
      end
    end

    -- loguru.
    word, message = match(match(rest, "^%.%d+(.*)$") or rest, "^ | (%u+) +| (.*)$")
    if word and LOGURU[word] then
      return level_of_name(word) or INFO, message
    end
  end

  -- Python warnings: `^\S+:[0-9]+: [A-Za-z]*Warning: `.
  local token = match(text, "^(%S+) %a*Warning: ")
  if token and file_line(token, ":") then
    return WARNING, text
  end

  -- TensorFlow's absl: `date time.frac: L file:line] message`.
  rest = match(text, SPACED_TIME)
  if rest then
    l, token, message = match(rest, ABSL)
    if l and file_line(token, "%]") then
      return level_of_name(l) or INFO, message
    end
  end

  -- absl's glog-style line with the seconds since the epoch.
  l, token, message = match(text, ABSL_EPOCH)
  if l and file_line(token, "%]") then
    return level_of_name(l) or INFO, message
  end

  -- A Rust program's main returning an error.
  if find(text, "^Error: ") then
    return ERROR, text
  end

  -- A level in brackets after a prefix without `[`: the prefix and the
  -- message joined.
  local head
  head, word, message = match(text, BRACKETED_LEVEL)
  if head and BRACKETED[word] then
    return level_of_name(word) or INFO, head .. message
  end
  return INFO, text
end

-- `j.a.b…` as the rule reads it: nil for null, and through anything but an
-- object.
local function at_path(j, path)
  local value = j
  for i = 1, #path do
    if type(value) ~= "table" then
      return nil
    end
    value = value[path[i]]
  end
  if type(value) == "userdata" then -- null
    return nil
  end
  return value
end

-- `j.a ?? j.b ?? …`: the first of `paths` that is neither missing nor null.
local function first_of(j, paths)
  for i = 1, #paths do
    local value = at_path(j, paths[i])
    if value ~= nil then
      return value
    end
  end
  return nil
end

-- The message under its logger's key: python-json-logger's, pino's,
-- bunyan's and zap's, structlog's, Serilog's (CLEF), loguru's, GELF's.
local SAID = {
  { "message" }, { "msg" }, { "event" }, { "@m" }, { "@mt" }, { "record", "message" }, { "short_message" },
}
-- The traceback or stack under its logger's key.
local THROWN = {
  { "exc_info" }, { "exception", "stacktrace" }, { "exception" }, { "_exception", "stackTrace" }, { "@x" },
  { "full_message" }, { "traceback" }, { "stack_trace" }, { "stacktrace" }, { "stack" }, { "error.stack_trace" },
  { "error", "stack_trace" }, { "err", "stack" }, { "record", "exception" },
}
-- The words under zap's and Google Cloud's `severity`, `lvl`, Elastic's
-- `log.level` (flat or nested), CLEF's `@l`, loguru's `record.level.name`.
local WORDS = { { "severity" }, { "lvl" }, { "log.level" }, { "log", "level" }, { "@l" }, { "record", "level", "name" } }

-- The level of the object itself, or nil.
local function own_level(j)
  local level = level_on_scale(j.levelname, "python") or level_on_scale(j.levelno, "python")
  if level then
    return level
  end
  -- A number under `level` is GELF's syslog severity (a line with
  -- `short_message`), else pino's or bunyan's.
  local short = j.short_message
  if short ~= nil and type(short) ~= "userdata" then
    level = level_on_scale(j.level, "syslog")
  else
    level = level_on_scale(j.level, "pino")
  end
  if level then
    return level
  end
  for i = 1, #WORDS do
    level = level_of(at_path(j, WORDS[i]))
    if level then
      return level
    end
  end
  return nil
end

-- The traceback text of `thrown`: "" for none (null, a bool).
local function exception_of(thrown)
  local t = type(thrown)
  if t == "string" then
    return trim(strip_ansi(thrown))
  elseif t == "table" or t == "number" then
    -- JSON escapes ESC: compact JSON has no colours to strip.
    return trim(text_of(thrown))
  end
  return ""
end

function transform(line)
  local j = json_decode(line)
  if j then
    local said = text_of(first_of(j, SAID))
    local message = trim(strip_ansi(said or line))
    local own = own_level(j)
    local level = own or INFO
    local exc_info
    local exc = exception_of(first_of(j, THROWN))
    -- "None" and "NoneType: None": `logging.exception` outside an `except`.
    if exc ~= "" and exc ~= "None" and exc ~= "NoneType: None" then
      exc_info = exc
      -- The line's own level decides; a line without one is an error.
      level = own or ERROR
      if message == "" then
        message = last_line(exc)
      end
    end
    if message == "" then
      -- An empty message: the line itself says what there is.
      message = line
    end
    return level, message, exc_info, text_of(j.request_id)
  end
  -- Colours off, trailing padding off, and of a line redrawn with `\r` only
  -- its last state; nothing left but whitespace is dropped.
  local text = trim_end(strip_ansi(line))
  text = match(text, "\r([^\r]*)$") or text
  if trim(text) == "" then
    return nil
  end
  return plain(text)
end
