/**
 * The Lua scripts of the Redis journal. Each runs atomically on the server, which is what makes the
 * steps below safe against a second writer acting between two of them. They are sent with EVAL:
 * small, and run a few times per turn at most.
 */

/**
 * Adds a turn to the writer's own stream and delivers it to that writer at once (it enters the
 * writer's pending list in the same step, so no entry is ever without an owner), registers the
 * writer and refreshes its liveness key.
 * KEYS: stream, writers set, alive key. ARGV: group, writer id, turn JSON, agent id, alive ms.
 * Returns the entry id.
 */
export const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
local id = redis.call('XADD', KEYS[1], '*', 'turn', ARGV[3], 'agent', ARGV[4])
local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if got[1][2][1][1] ~= id then
  return redis.error_reply('journal stream ' .. KEYS[1] .. ' had an entry nobody read')
end
return id`;

/**
 * Resets the idle time of every entry this writer holds in a stream, so no other writer claims
 * them while it lives. Only entries still its own (a claimer may have taken some): XPENDING for
 * this consumer, then XCLAIM of exactly those, in one step.
 * KEYS: stream. ARGV: group, writer id. Returns how many entries it holds there.
 */
export const TOUCH = `
local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 10000, ARGV[2])
for i = 1, #held, 500 do
  local call = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for j = i, math.min(i + 499, #held) do call[#call + 1] = held[j][1] end
  call[#call + 1] = 'JUSTID'
  redis.call(unpack(call))
end
return #held`;

/**
 * Whether every given entry is still in this writer's pending list.
 * KEYS: stream. ARGV: group, writer id, entry ids... Returns 1 or 0.
 */
export const OWNS = `
for i = 3, #ARGV do
  local e = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #e == 0 or e[1][2] ~= ARGV[2] then return 0 end
end
return 1`;

/**
 * Forgets a writer that is gone (its liveness key expired) once its stream is empty.
 * KEYS: stream, stream's batch index, alive key, writers set. ARGV: writer id. Returns 1 if forgotten.
 */
export const FORGET = `
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('XLEN', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return 1`;

/** Extends a lock's lease if this holder still has it. KEYS: lock. ARGV: token, lease ms. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** Releases a lock if this holder still has it. KEYS: lock. ARGV: token. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Puts one dead letter back as the batch it was: its turns into this writer's stream (read into its
 * pending list, as APPEND does), the batch record under the letter's batch id (sent at 0: unknown
 * when, so a writer checks Letta before sending it), and the letter deleted, in one step. A letter
 * already taken by another requeue is left alone.
 * KEYS: stream, writers set, alive key, batch key, stream's batch index, dead stream.
 * ARGV: group, writer id, alive ms, dead entry id, batch id, agent id, then a turn JSON and its agent
 * id per turn. Returns the number of turns requeued (0: the letter was gone).
 */
export const REQUEUE = `
if redis.call('XDEL', KEYS[6], ARGV[4]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
local refs = {}
for i = 7, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], '*', 'turn', ARGV[i], 'agent', ARGV[i + 1])
  redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
  redis.call('HSET', KEYS[5], id, ARGV[5])
  refs[#refs + 1] = id
end
redis.call('HSET', KEYS[4], 'agentId', ARGV[6], 'origin', KEYS[1], 'refs', cjson.encode(refs), 'at', 0)
return #refs`;
