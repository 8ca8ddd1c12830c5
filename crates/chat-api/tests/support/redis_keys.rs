//! The Redis of the scale-out tests (`CHAT_TEST_REDIS_URL`, default the
//! local one), and the cleanup of a test's key prefix.

pub fn redis_url() -> String {
    std::env::var("CHAT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Deletes every key under `prefix:`; only the test's own.
pub fn forget_prefix(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut conn)
        .unwrap_or_default();
    for key in keys {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(key).query(&mut conn);
    }
}
