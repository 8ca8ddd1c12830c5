//! The Lua scripts that keep presence and socket caps right across nodes.
//! Each runs atomically in Redis, so two nodes racing cannot both see an
//! agent's first socket, or both take the last place under a cap.
//!
//! Keys (all under the deployment's prefix `P`):
//! - `P:nodes`: sorted set, node id → its last heartbeat (Unix ms);
//! - `P:pn:<node>`: set of `<tenant>|<agent>|<name>` online on that node;
//! - `P:online:<tenant>`: hash, agent → number of nodes it is online on;
//! - `P:caps:<node>`: hash, cap key → that node's sockets under it.

use redis::Script;

/// KEYS[1] the node's presence set, KEYS[2] the tenant's online hash;
/// ARGV[1] the member, ARGV[2] the agent. Returns the number of nodes the
/// agent is now online on (1: the cluster's first), or -1 if the node had
/// it already.
pub fn came_online() -> Script {
    Script::new(
        r"
        if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
          return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
        end
        return -1
        ",
    )
}

/// As [`came_online`], the other way: returns 0 when the agent is now
/// offline on every node, -1 if this node did not have it.
pub fn went_offline() -> Script {
    Script::new(
        r"
        if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
          local n = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
          if n <= 0 then
            redis.call('HDEL', KEYS[2], ARGV[2])
            return 0
          end
          return n
        end
        return -1
        ",
    )
}

/// ARGV[1] the prefix, ARGV[2] a dead node. Takes its agents off the
/// online hashes and returns the members now offline everywhere; deletes
/// the node's keys, so a second sweeper finds nothing.
pub fn sweep_dead_node() -> Script {
    Script::new(
        r"
        local set = ARGV[1] .. ':pn:' .. ARGV[2]
        local gone = {}
        for _, m in ipairs(redis.call('SMEMBERS', set)) do
          local a = string.find(m, '|', 1, true)
          local b = string.find(m, '|', a + 1, true)
          local tenant = string.sub(m, 1, a - 1)
          local agent = string.sub(m, a + 1, b - 1)
          local hash = ARGV[1] .. ':online:' .. tenant
          local n = redis.call('HINCRBY', hash, agent, -1)
          if n <= 0 then
            redis.call('HDEL', hash, agent)
            table.insert(gone, m)
          end
        end
        redis.call('DEL', set)
        redis.call('DEL', ARGV[1] .. ':caps:' .. ARGV[2])
        redis.call('ZREM', ARGV[1] .. ':nodes', ARGV[2])
        return gone
        ",
    )
}

/// ARGV[1] the prefix, ARGV[2] this node, ARGV[3] the cap key, ARGV[4] the
/// cap, ARGV[5] the oldest heartbeat (Unix ms) of a live node. Counts the
/// sockets under the key on every live node and takes a place if one is
/// free: returns 1, or 0 when full.
pub fn take_place() -> Script {
    Script::new(
        r"
        local total = 0
        for _, n in ipairs(redis.call('ZRANGEBYSCORE', ARGV[1] .. ':nodes', ARGV[5], '+inf')) do
          total = total + tonumber(redis.call('HGET', ARGV[1] .. ':caps:' .. n, ARGV[3]) or '0')
        end
        if total >= tonumber(ARGV[4]) then
          return 0
        end
        redis.call('HINCRBY', ARGV[1] .. ':caps:' .. ARGV[2], ARGV[3], 1)
        return 1
        ",
    )
}

/// KEYS[1] the node's caps hash; ARGV[1] the cap key.
pub fn give_place() -> Script {
    Script::new(
        r"
        if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
          redis.call('HDEL', KEYS[1], ARGV[1])
        end
        return 1
        ",
    )
}

/// The request limits' GCRA, as governor runs it on each node, but with
/// one state per key for the whole cluster and Redis's clock. One call
/// checks every limit of a request in order, as the node does: KEYS[i] the
/// i-th key, ARGV[2i-1] its emission interval and ARGV[2i] its burst
/// tolerance, in µs. Returns `{0, 0}` when all allow, else `{i, µs to wait}`
/// for the first that refuses (those before it have counted the request).
pub fn gcra() -> Script {
    Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        for i, key in ipairs(KEYS) do
          local interval = tonumber(ARGV[2 * i - 1])
          local tolerance = tonumber(ARGV[2 * i])
          local tat = tonumber(redis.call('GET', key) or now)
          if tat < now then tat = now end
          if tat - now > tolerance then
            return {i, tat - now - tolerance}
          end
          local new_tat = tat + interval
          redis.call('SET', key, new_tat, 'PX', math.floor((new_tat - now) / 1000) + 1000)
        end
        return {0, 0}
        ",
    )
}
