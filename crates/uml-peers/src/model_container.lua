-- The model container rule (rules/model_container.uml) as a Fluent Bit Lua
-- filter would run it on LuaJIT: the host frames the CRI line and writes the
-- record; this script gets the container's line and returns the payload's
-- level, message, exc_info and request_id (nil for the last two when they are
-- absent), or nothing when the rule drops the line.
--
-- `json_decode(text)` is the host's: the object as a table, or nil when the
-- text is not a JSON object (lua-cjson's `decode`, with its `null` as a light
-- userdata). `json_encode(value)` writes a table back as compact JSON.
--
-- Lua has no regular expressions; each of the rule's regexes is written with
-- Lua patterns and, for its alternations, a lookup of the word it captured.

local json_decode, json_encode = json_decode, json_encode
local find, match, sub, byte, lower = string.find, string.match, string.sub, string.byte, string.lower
local concat = table.concat

local DEBUG, INFO, WARNING, ERROR = "DEBUG", "INFO", "WARNING", "ERROR"

-- The level spellings of docs/contract.md, "Levels", lowercase.
local SPELLINGS = {
  debug = DEBUG, debu = DEBUG, debg = DEBUG, trace = DEBUG, trac = DEBUG, v = DEBUG, d = DEBUG,
  ["[d]"] = DEBUG, ["[v]"] = DEBUG,
  info = INFO, i = INFO, ["[i]"] = INFO, notice = INFO, normal = INFO,
  warning = WARNING, warn = WARNING, w = WARNING, ["[w]"] = WARNING,
  error = ERROR, erro = ERROR, e = ERROR, ["[e]"] = ERROR, ["[f]"] = ERROR, critical = ERROR,
  crit = ERROR, fatal = ERROR, fata = ERROR, f = ERROR, pani = ERROR, panic = ERROR,
}

local function trim(s)
  return match(s, "^%s*(.-)%s*$")
end

-- `level(name)`: a spelling, in any case, with surrounding whitespace.
local function level_of_name(name)
  local word = trim(name)
  if #word > 8 then
    return nil
  end
  return SPELLINGS[lower(word)]
end

-- A Python `logging` level number, 10 DEBUG … 50 CRITICAL, rounded down.
local function level_of_python_number(n)
  if n ~= n or n < 0 or n ~= math.floor(n) then
    return nil
  elseif n < 20 then
    return DEBUG
  elseif n < 30 then
    return INFO
  elseif n < 40 then
    return WARNING
  end
  return ERROR
end

-- `level(value, scale: "python")`.
local function level_of_python(value)
  local t = type(value)
  if t == "number" then
    return level_of_python_number(value)
  elseif t == "string" then
    local level = level_of_name(value)
    if level then
      return level
    end
    local digits = trim(value)
    if find(digits, "^%d+$") then
      return level_of_python_number(tonumber(digits))
    end
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
local LOGURU = { TRACE = true, DEBUG = true, INFO = true, SUCCESS = true, WARNING = true, ERROR = true, CRITICAL = true }

local KLOG = "^([IWEF])%d%d%d%d %d%d:%d%d:%d%d%.%d%d%d%d%d%d +%d+ [^ %]]+:%d+%] ?(.*)$"
local KLOG_YEAR = "^([IWEF])%d%d%d%d%d%d%d%d %d%d:%d%d:%d%d%.%d%d%d%d%d%d +%d+ [^ %]]+:%d+%] ?(.*)$"
local DATE_TIME = "^%d%d%d%d%-%d%d%-%d%d[ T]%d%d:%d%d:%d%d(.*)$"
local ISO_TIME = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d(.*)$"
local SPACED_TIME = "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d(.*)$"
local VLLM_TIME = " %d%d%-%d%d %d%d:%d%d:%d%d()"

-- What follows a timestamp that `pattern` matches at the start of `text`
-- and its fraction, if `fraction` matches one; nil without a timestamp.
local function after_time(text, pattern, fraction)
  local rest = match(text, pattern)
  if rest then
    return match(rest, fraction) or rest
  end
  return nil
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

  local word, rest = match(text, "^(%u+):(.*)$")
  if word and UVICORN[word] then
    message = match(rest, "^%s+(.*)$") or match(rest, "^[^%s:]*:(.*)$")
    if message then
      return level_of_name(word) or INFO, message
    end
  end

  rest = after_time(text, DATE_TIME, "^[.,]%d+(.*)$")
  if rest then
    word, message = match(rest, "^ %- %S+ %- (%u+) %- (.*)$")
    if not (word and PYTHON[word]) then
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

  rest = after_time(text, ISO_TIME, "^%.%d+(.*)$")
  if rest then
    word, message = match(rest, "^Z%s+(%u+)%s+(.*)$")
    if word and TRACING[word] then
      return level_of_name(word) or INFO, message
    end
  end

  rest = after_time(text, SPACED_TIME, "^%.%d+(.*)$")
  if rest then
    word, message = match(rest, "^ | (%u+) +| (.*)$")
    if word and LOGURU[word] then
      return level_of_name(word) or INFO, message
    end
  end

  if find(text, "^%S+:%d+: %a*Warning: ") then
    return WARNING, text
  end
  return INFO, text
end

function transform(line)
  local j = json_decode(line)
  if j then
    local said = text_of(j.message)
    if said == nil then
      said = text_of(j.msg)
    end
    local message = trim(strip_ansi(said or line))
    local level = level_of_python(j.levelname) or level_of_python(j.levelno)
    if not level and type(j.level) == "string" then
      level = level_of_name(j.level)
    end
    level = level or INFO
    local exc_info
    if type(j.exc_info) == "string" then
      exc_info = trim(strip_ansi(j.exc_info))
      level = ERROR
      if message == "" then
        message = last_line(exc_info)
      end
    end
    return level, message, exc_info, text_of(j.request_id)
  end
  -- Colours off, trailing padding off, and of a line redrawn with `\r` only
  -- its last state; nothing left but whitespace is dropped.
  local text = match(strip_ansi(line), "^(.-)%s*$")
  text = match(text, "\r([^\r]*)$") or text
  if not find(text, "%S") then
    return nil
  end
  return plain(text)
end
