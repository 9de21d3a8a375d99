/**
 * Lua scripts of the Redis location service. Each runs atomically in Redis. Layout (prefix `ns`):
 *   ns..'aor:'..aor   hash   binding key → binding JSON (`registeredAt` is the last property)
 *   ns..'exp'         zset   aor..'\n'..key, score = expiresAt
 *   ns..'flow:'..fk   set    aor..'\n'..key of the bindings that die with flow fk
 * Scripts touch keys they derive from the prefix, so they need a single Redis (not a cluster).
 */

const DROP = `
local function drop(ns, hkey, ekey, member, raw)
  local b = cjson.decode(raw)
  local sep = string.find(member, '\\n', 1, true)
  redis.call('HDEL', hkey, string.sub(member, sep + 1))
  redis.call('ZREM', ekey, member)
  if b.flowKey then redis.call('SREM', ns .. 'flow:' .. b.flowKey, member) end
end
`;

/**
 * KEYS: hash of the AOR, expiry zset. ARGV: ns, aor, callId, cseq, now, removeAll (1/0),
 * maxBindings (0 = none), op count, then per op: key, json ('' = remove), expiresAt, flowKey.
 * Returns JSON {err, key} or {added, refreshed: [[new, old]], removed, all}.
 */
export const APPLY_SCRIPT = `${DROP}
local hkey, ekey = KEYS[1], KEYS[2]
local ns, aor, callId = ARGV[1], ARGV[2], ARGV[3]
local cseq, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local removeAll, maxB, n = ARGV[6] == '1', tonumber(ARGV[7]), tonumber(ARGV[8])
local flat = redis.call('HGETALL', hkey)
local cur, raw, count = {}, {}, 0
for i = 1, #flat, 2 do
  local b = cjson.decode(flat[i + 1])
  if b.expiresAt > now then
    cur[flat[i]] = b; raw[flat[i]] = flat[i + 1]; count = count + 1
  end
end
local ops = {}
for i = 0, n - 1 do
  local at = 9 + i * 4
  ops[#ops + 1] = { key = ARGV[at], json = ARGV[at + 1], exp = ARGV[at + 2], flow = ARGV[at + 3] }
end
local function stale(k)
  local b = cur[k]
  return b ~= nil and b.callId == callId and cseq <= b.cseq
end
local after = count
if removeAll then
  for k, _ in pairs(cur) do
    if stale(k) then return cjson.encode({ err = 'LOC_ERR_OUT_OF_ORDER', key = k }) end
  end
  after = 0
end
for _, op in ipairs(ops) do
  if stale(op.key) then return cjson.encode({ err = 'LOC_ERR_OUT_OF_ORDER', key = op.key }) end
  if not removeAll then
    if op.json ~= '' and cur[op.key] == nil then after = after + 1 end
    if op.json == '' and cur[op.key] ~= nil then after = after - 1 end
  elseif op.json ~= '' then after = after + 1 end
end
if maxB > 0 and after > maxB and after > count then
  return cjson.encode({ err = 'LOC_ERR_TOO_MANY_BINDINGS' })
end
local added, refreshed, removed = {}, {}, {}
if removeAll then
  for k, _ in pairs(cur) do
    drop(ns, hkey, ekey, aor .. '\\n' .. k, raw[k]); removed[#removed + 1] = raw[k]; cur[k] = nil
  end
end
for _, op in ipairs(ops) do
  local member = aor .. '\\n' .. op.key
  local old = cur[op.key]
  if op.json == '' then
    if old then drop(ns, hkey, ekey, member, raw[op.key]); removed[#removed + 1] = raw[op.key] end
  else
    local json = op.json
    if old then
      local since = string.match(raw[op.key], '"registeredAt":(%d+)}$')
      if since then json = string.gsub(json, '"registeredAt":%d+}$', '"registeredAt":' .. since .. '}') end
      if old.flowKey and old.flowKey ~= op.flow then redis.call('SREM', ns .. 'flow:' .. old.flowKey, member) end
      refreshed[#refreshed + 1] = { json, raw[op.key] }
    else
      added[#added + 1] = json
    end
    redis.call('HSET', hkey, op.key, json)
    redis.call('ZADD', ekey, op.exp, member)
    if op.flow ~= '' then redis.call('SADD', ns .. 'flow:' .. op.flow, member) end
  end
end
local all = redis.call('HVALS', hkey)
if #all == 0 then redis.call('DEL', hkey) end
return cjson.encode({ added = added, refreshed = refreshed, removed = removed, all = all })
`;

/** KEYS: expiry zset. ARGV: ns, now, limit. Returns the JSON of each binding removed. */
export const EXPIRE_SCRIPT = `${DROP}
local ns = ARGV[1]
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, m in ipairs(members) do
  local sep = string.find(m, '\\n', 1, true)
  local hkey = ns .. 'aor:' .. string.sub(m, 1, sep - 1)
  local raw = redis.call('HGET', hkey, string.sub(m, sep + 1))
  redis.call('ZREM', KEYS[1], m)
  if raw then drop(ns, hkey, KEYS[1], m, raw); out[#out + 1] = raw end
end
return out
`;

/** KEYS: flow set, expiry zset. ARGV: ns, flowKey. Returns the JSON of each binding removed. */
export const REMOVE_FLOW_SCRIPT = `${DROP}
local ns, flowKey = ARGV[1], ARGV[2]
local members = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, m in ipairs(members) do
  local sep = string.find(m, '\\n', 1, true)
  local hkey = ns .. 'aor:' .. string.sub(m, 1, sep - 1)
  local raw = redis.call('HGET', hkey, string.sub(m, sep + 1))
  if raw and cjson.decode(raw).flowKey == flowKey then
    drop(ns, hkey, KEYS[2], m, raw); out[#out + 1] = raw
  end
end
redis.call('DEL', KEYS[1])
return out
`;

/** KEYS: hash of the AOR, expiry zset. ARGV: ns, aor, key. Returns the JSON removed or false. */
export const REMOVE_SCRIPT = `${DROP}
local raw = redis.call('HGET', KEYS[1], ARGV[3])
if not raw then return false end
drop(ARGV[1], KEYS[1], KEYS[2], ARGV[2] .. '\\n' .. ARGV[3], raw)
return raw
`;
