-- Appends entries to a stream, then acknowledges entries of a consumer group, atomically
-- with respect to other clients; and if an append fails, the acknowledgement does not run
-- (a MULTI transaction would run it anyway: Redis does not stop a transaction at a failed
-- command).
--
-- KEYS[1]  the stream appended to
-- KEYS[2]  the stream whose entries are acknowledged
-- ARGV[1]  the approximate MAXLEN of KEYS[1], or '' for none
-- ARGV[2]  the consumer group of KEYS[2] ('' when nothing is acknowledged)
-- ARGV[3]  how many entries to append; then, for each, its number of fields and its
--          field-value pairs; then the ids to acknowledge.
-- Returns the appended entries' ids.
local maxlen, group, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local at = 4
local ids = {}
for e = 1, count do
  local fields = tonumber(ARGV[at])
  at = at + 1
  local args = {KEYS[1]}
  if maxlen ~= '' then
    args[#args + 1] = 'MAXLEN'
    args[#args + 1] = '~'
    args[#args + 1] = maxlen
  end
  args[#args + 1] = '*'
  for i = at, at + 2 * fields - 1 do
    args[#args + 1] = ARGV[i]
  end
  at = at + 2 * fields
  ids[e] = redis.call('XADD', unpack(args))
end
-- Lua's unpack takes a few thousand values at most: acknowledge in chunks.
for from = at, #ARGV, 1000 do
  redis.call('XACK', KEYS[2], group, unpack(ARGV, from, math.min(from + 999, #ARGV)))
end
return ids
