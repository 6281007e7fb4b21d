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

/// KEYS: session. ARGV: user-set prefix, sid, channel. Publishes even when the session is
/// already gone, so no replica keeps a copy. Returns 1 when a session was deleted.
pub(super) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local u = redis.call('HGET', KEYS[1], 'u')
local n = redis.call('DEL', KEYS[1])
if u then redis.call('SREM', ARGV[1] .. u, ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[2])
return n
",
    )
});

/// KEYS: user set. ARGV: session-key prefix, channel. Returns the sids of the sessions deleted.
pub(super) static REVOKE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local deleted = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('DEL', ARGV[1] .. sid) == 1 then table.insert(deleted, sid) end
  redis.call('PUBLISH', ARGV[2], sid)
end
redis.call('DEL', KEYS[1])
return deleted
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
