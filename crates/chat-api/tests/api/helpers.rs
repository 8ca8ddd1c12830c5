//! `spawn_app()`: the real server on port 0 with a fresh database, and
//! typed helpers to drive it over real HTTP and WebSocket connections.

use std::sync::Arc;
use std::time::Duration;

use chat_api::admin::{AgentSpec, create_agent, create_tenant};
use chat_api::configuration::Settings;
use chat_api::startup::{Application, Stopper};
use chat_domain::Role;
use chat_service::{AuthService, Repositories};
use chat_store::testing::{Backend, TestDatabase};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct horse battery";
/// How long a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub address: String,
    pub ws_address: String,
    pub client: reqwest::Client,
    pub repos: Repositories,
    pub auth: Arc<AuthService>,
    pub stopper: Stopper,
    pub store: Arc<chat_store::SeaOrmStore>,
    pub chat: Arc<chat_service::ChatService>,
    pub db_url: String,
    /// Where this server keeps uploaded files (deleted with the app).
    pub files_dir: std::path::PathBuf,
    _db: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files_dir);
    }
}

#[derive(Clone, Debug)]
pub struct TestAgent {
    pub id: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::create(Backend::from_env()).await;
    let url = db.url.clone();
    start(url, Some(db), configure).await
}

/// A second node on the database of `first` (which keeps it alive).
pub async fn spawn_node_on(first: &TestApp, configure: impl FnOnce(&mut Settings)) -> TestApp {
    start(first.db_url.clone(), None, configure).await
}

async fn start(
    url: String,
    db: Option<TestDatabase>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.database.url = url.clone().into();
    settings.database.max_connections = 8;
    settings.database.sqlite_synchronous = "normal".into();
    settings.metrics.listen = "127.0.0.1:0".into();
    let files_dir = std::env::temp_dir().join(format!("chat-test-files-{}", uuid::Uuid::now_v7()));
    settings.attachments.dir = files_dir.to_string_lossy().into_owned();
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("Application::build");
    let port = app.port();
    let repos = app.services().repos.clone();
    let auth = app.services().auth.clone();
    let stopper = app.stopper();
    let store = app.services().store.clone();
    let chat = app.services().chat.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        ws_address: format!("ws://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .timeout(PATIENCE)
            .build()
            .expect("build"),
        repos,
        auth,
        stopper,
        store,
        chat,
        db_url: url,
        files_dir,
        _db: db,
    }
}

/// For load tests about delivery, not limits: the request limits out of
/// the way.
pub fn without_request_limits(s: &mut Settings) {
    s.limits.starts_per_address = 1_000_000;
    s.limits.starts_per_tenant = 1_000_000;
    s.limits.sends_per_address = 1_000_000;
    s.limits.sends_per_tenant = 1_000_000;
    s.limits.sends_per_session = 1_000_000;
    s.limits.sends_per_agent = 1_000_000;
    s.limits.reads_per_address = 1_000_000;
}

/// An error body without its `request_id`, which differs per request.
pub fn without_request_id(mut body: Value) -> Value {
    let id = body
        .get_mut("error")
        .and_then(Value::as_object_mut)
        .and_then(|e| e.remove("request_id"));
    assert!(
        id.is_some_and(|id| id.is_string()),
        "an error body names its request"
    );
    body
}

pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("the call succeeds")
}

impl TestApp {
    pub async fn create_tenant(&self, slug: &str, origins: &[&str]) {
        let origins: Vec<String> = origins.iter().map(|s| (*s).to_owned()).collect();
        ok(create_tenant(&self.repos, slug, slug, &origins).await);
    }

    pub async fn create_agent_with_role(
        &self,
        tenant: &str,
        email: &str,
        name: &str,
        role: Role,
    ) -> TestAgent {
        let spec = AgentSpec {
            tenant,
            email,
            name,
            password: PASSWORD,
            role,
        };
        ok(create_agent(&self.repos, &self.auth, spec).await);
        let token = self.login(email, PASSWORD).await;
        let body: Value = ok(self
            .agent_get(&token, "/api/v1/agents/me")
            .await
            .json()
            .await);
        TestAgent {
            id: body["agent"]["id"].as_str().unwrap_or_default().to_owned(),
            token,
        }
    }

    pub async fn create_agent(&self, tenant: &str, email: &str, name: &str) -> TestAgent {
        self.create_agent_with_role(tenant, email, name, Role::Agent)
            .await
    }

    /// A fresh access token for the agent that expires at `at`.
    pub async fn token_expiring_at(
        &self,
        agent: &TestAgent,
        at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let ctx = ok(self.auth.authenticate(&agent.token).await);
        let token = chat_service::new_secret();
        ok(self
            .repos
            .tokens
            .insert(
                chat_domain::repo::TokenKind::Access,
                &chat_service::hash_secret(&token),
                &ctx.agent,
                at,
                None,
            )
            .await);
        token
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "login of {email}");
        let body: Value = ok(res.json().await);
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        ok(self
            .client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        ok(self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await)
    }

    pub async fn agent_get(&self, token: &str, path: &str) -> reqwest::Response {
        ok(self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await)
    }

    pub async fn agent_post(
        &self,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        ok(req.send().await)
    }

    /// Any method, with the agent's bearer token and an optional JSON body.
    /// An agent's request with a JSON body, answered as status and JSON
    /// (`null` when the answer has none).
    pub async fn call(
        &self,
        who: &TestAgent,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let res = self
            .agent_request(method, &who.token, path, body.as_ref())
            .await;
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn agent_request(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        ok(req.send().await)
    }

    /// Starts a session; returns `(session_key, session_id)`.
    pub async fn start_session(&self, tenant: &str, name: &str) -> (String, String) {
        let res = self
            .post_json(
                "/api/v1/public/chat/sessions",
                &json!({ "tenant_id": tenant, "customer": { "name": name } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = ok(res.json().await);
        (
            body["session_key"].as_str().unwrap_or_default().to_owned(),
            body["session"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    pub async fn post_message(
        &self,
        key: &str,
        body: &str,
        client_msg_id: Option<&str>,
    ) -> reqwest::Response {
        let mut payload = json!({ "body": body });
        if let Some(c) = client_msg_id {
            payload["client_msg_id"] = json!(c);
        }
        self.post_json(
            &format!("/api/v1/public/chat/sessions/{key}/messages"),
            &payload,
        )
        .await
    }

    pub async fn agent_message(&self, agent: &TestAgent, session_id: &str, body: &str) -> Value {
        let res = self
            .agent_post(
                &agent.token,
                &format!("/api/v1/chat/sessions/{session_id}/messages"),
                Some(&json!({ "body": body })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ok(res.json().await)
    }

    pub async fn customer_messages(&self, key: &str, after_seq: i64) -> Vec<Value> {
        let body: Value = ok(self
            .get(&format!(
                "/api/v1/public/chat/sessions/{key}/messages?after_seq={after_seq}"
            ))
            .await
            .json()
            .await);
        body["messages"].as_array().cloned().unwrap_or_default()
    }

    pub async fn agent_ws(&self, agent: &TestAgent) -> WsClient {
        let mut req = ok(format!("{}/ws", self.ws_address).into_client_request());
        req.headers_mut().insert(
            "authorization",
            ok(HeaderValue::from_str(&format!("Bearer {}", agent.token))),
        );
        WsClient::connect(req).await
    }

    pub async fn customer_ws(&self, key: &str) -> WsClient {
        let req = ok(format!("{}/ws/public/{key}", self.ws_address).into_client_request());
        WsClient::connect(req).await
    }

    /// The HTTP status a refused upgrade answers with.
    pub async fn ws_refusal(&self, path: &str, headers: &[(&'static str, &str)]) -> u16 {
        let mut req = ok(format!("{}{path}", self.ws_address).into_client_request());
        for (k, v) in headers {
            req.headers_mut().insert(*k, ok(HeaderValue::from_str(v)));
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok(_) => panic!("upgrade to {path} was accepted"),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a socket ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: Option<u16>,
    pub reason: String,
}

impl WsClient {
    pub async fn connect(req: tokio_tungstenite::tungstenite::handshake::client::Request) -> Self {
        let (stream, res) = ok(tokio_tungstenite::connect_async(req).await);
        assert_eq!(res.status().as_u16(), 101);
        Self { stream }
    }

    pub async fn send_json(&mut self, v: &Value) {
        ok(self.stream.send(Message::Text(v.to_string().into())).await);
    }

    pub async fn send(&mut self, kind: &str, payload: Value) {
        self.send_json(&json!({ "type": kind, "payload": payload }))
            .await;
    }

    /// The next JSON frame, whatever it is.
    pub async fn next_frame(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("no frame within {PATIENCE:?}"));
            match msg {
                Some(Ok(Message::Text(t))) => return ok(serde_json::from_str(t.as_str())),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next frame that is not an `agent.presence` notice.
    pub async fn next_event(&mut self) -> Value {
        loop {
            let f = self.next_frame().await;
            if f["type"] != "agent.presence" {
                return f;
            }
        }
    }

    /// The payload of the next frame of this type, skipping others.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next_frame().await;
            if f["type"] == kind {
                return f["payload"].clone();
            }
        }
    }

    pub async fn expect(&mut self, kind: &str) -> Value {
        let f = self.next_event().await;
        assert_eq!(f["type"], kind, "unexpected frame {f}");
        f["payload"].clone()
    }

    /// Reads until the server closes the socket.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("socket not closed within {PATIENCE:?}"));
            match msg {
                Some(Ok(Message::Close(frame))) => {
                    return Closed {
                        code: frame.as_ref().map(|f| u16::from(f.code)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    };
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => {
                    return Closed {
                        code: None,
                        reason: String::new(),
                    };
                }
            }
        }
    }
}
