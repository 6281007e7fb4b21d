//! The Lua scripts that make each multi-key change atomic in Redis.
//!
//! Revocation scripts build key names from the prefix passed in ARGV, which standalone Redis
//! and Sentinel setups allow (Redis Cluster would not; Pforte does not use it).

use std::sync::LazyLock;

use redis::Script;

/// KEYS: session, user set. ARGV: session ttl, user-set ttl, k, u, d, l, sid.
/// Returns 0 when the sid is taken (the caller retries with a new id), else 1.
pub(super) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'k', ARGV[3], 'u', ARGV[4], 'd', ARGV[5], 'l', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[7])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return 1
",
    )
});

/// KEYS: session. ARGV: last seen, ttl. Moves `l` forward only, and the TTL with it.
/// Returns 0 when the session is gone.
pub(super) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local l = redis.call('HGET', KEYS[1], 'l')
if not l then return 0 end
if tonumber(ARGV[1]) > tonumber(l) then
  redis.call('HSET', KEYS[1], 'l', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
",
    )
});

/// KEYS: session. ARGV: field, channel, sid. Returns 0 when the session is gone.
pub(super) static ADD_CLIENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
",
    )
});

/// KEYS: session. ARGV: expected d, new d, channel, sid. A step-up or an identity refresh: rewrites `d` only over the
/// `d` the caller read (compared byte for byte), and publishes the sid so that every replica's
/// cache drops its old copy (the session stays: the next lookup reads the new `d`). Returns 0
/// when the session is gone, 2 when `d` changed meanwhile (the caller reads again), else 1.
pub(super) static REWRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local d = redis.call('HGET', KEYS[1], 'd')
if not d then return 0 end
if d ~= ARGV[1] then return 2 end
redis.call('HSET', KEYS[1], 'd', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
",
    )
});

/// The Lua function both revocation scripts call before deleting a session hash: when the
/// session has OIDC clients (its `c:{client}` fields, see `record`), it pushes a logout notice
/// onto the queue and trims the queue to its cap (see `keys` and `crate::records`).
const QUEUE_NOTICE: &str = r"
local function queue_notice(session, sid, subject, queue, cap)
  local clients = {}
  for _, field in ipairs(redis.call('HKEYS', session)) do
    if string.sub(field, 1, 2) == 'c:' then table.insert(clients, string.sub(field, 3)) end
  end
  if #clients == 0 then return end
  table.sort(clients)
  redis.call('RPUSH', queue, cjson.encode({s = sid, u = subject, c = clients}))
  redis.call('LTRIM', queue, -tonumber(cap), -1)
end
";

/// KEYS: session, logout queue. ARGV: user-set prefix, sid, channel, queue cap. Queues a
/// logout notice when the session had OIDC clients. Publishes even when the session is
/// already gone, so no replica keeps a copy. Returns 1 when a session was deleted.
pub(super) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{QUEUE_NOTICE}
local u = redis.call('HGET', KEYS[1], 'u')
if u then queue_notice(KEYS[1], ARGV[2], u, KEYS[2], ARGV[4]) end
local n = redis.call('DEL', KEYS[1])
if u then redis.call('SREM', ARGV[1] .. u, ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[2])
return n
",
    ))
});

/// KEYS: user set, logout queue. ARGV: session-key prefix, channel, queue cap. Queues a
/// logout notice for each session that had OIDC clients. Returns the sids of the sessions
/// deleted.
pub(super) static REVOKE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{QUEUE_NOTICE}
local deleted = {{}}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local session = ARGV[1] .. sid
  local u = redis.call('HGET', session, 'u')
  if u then queue_notice(session, sid, u, KEYS[2], ARGV[3]) end
  if redis.call('DEL', session) == 1 then table.insert(deleted, sid) end
  redis.call('PUBLISH', ARGV[2], sid)
end
redis.call('DEL', KEYS[1])
return deleted
",
    ))
});

/// KEYS: record. ARGV: expected value, new value, ttl in ms. Writes only over the expected
/// value (compared byte for byte). Returns 1 when written, 0 otherwise (also when missing).
pub(super) static REPLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
",
    )
});

/// KEYS: family index. ARGV: family id, ttl in ms. Adds the family and extends (never
/// shortens) the index's TTL.
pub(super) static LINK_FAMILY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
",
    )
});

/// KEYS: counter, lock set. ARGV: now, retention, lock after, lock end, name, lock period.
/// Returns the new count.
pub(super) static FAIL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
return n
",
    )
});
