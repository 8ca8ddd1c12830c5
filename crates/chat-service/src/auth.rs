//! Agent authentication: argon2id passwords, random bearer tokens stored
//! hashed, single-use WebSocket tickets, and login throttling.

use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chat_domain::agent::parse_display_name;
use chat_domain::repo::TokenKind;
use chat_domain::{
    Agent, AgentId, AgentPatch, ApiToken, Email, NewAgent, NewApiToken, Role, Scope, TenantId,
    Timestamp, ValidationError,
};
use tracing::instrument;

use crate::keys::{hash_secret, is_well_formed_secret, new_secret};
use crate::rate_limit::FailureLimiter;
use crate::{AgentCtx, Error, Repositories, Result};

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub token_ttl: Duration,
    pub ticket_ttl: Duration,
    /// Failed logins allowed per account and client address in the window.
    pub max_failures_per_client: usize,
    /// Failed logins allowed per account from all addresses in the window.
    pub max_failures_per_account: usize,
    /// Failed logins allowed from one address, whatever the account.
    pub max_failures_per_address: usize,
    pub failure_window: Duration,
    /// Password hashes computed at once; a login beyond that is refused
    /// (429 with `Retry-After`) instead of queueing.
    pub max_concurrent_hashes: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(12 * 3600),
            ticket_ttl: Duration::from_secs(60),
            max_failures_per_client: 5,
            max_failures_per_account: 20,
            max_failures_per_address: 30,
            failure_window: Duration::from_secs(15 * 60),
            max_concurrent_hashes: 4,
        }
    }
}

pub struct LoginOutcome {
    pub token: String,
    pub agent: Agent,
    pub expires_at: Timestamp,
}

pub struct AuthService {
    repos: Repositories,
    settings: AuthSettings,
    per_client: FailureLimiter,
    per_account: FailureLimiter,
    per_address: FailureLimiter,
    hashing: tokio::sync::Semaphore,
    /// Verified against when the email is unknown, so that a wrong email
    /// takes as long as a wrong password.
    dummy_hash: tokio::sync::OnceCell<String>,
    /// Login credentials last found valid, and when: see
    /// [`AuthService::credential_valid`].
    confirmed: crate::memo::Memo<String, Instant, CONFIRMED_CREDENTIALS>,
}

/// Credentials [`AuthService`] remembers as valid; past this it starts over.
const CONFIRMED_CREDENTIALS: usize = 100_000;

const MIN_PASSWORD: usize = 8;
/// Accounts of one address a login without a tenant tries.
const MAX_ACCOUNTS_PER_ADDRESS: usize = 5;
const MAX_PASSWORD: usize = 256;

impl AuthService {
    pub async fn new(repos: Repositories, settings: AuthSettings) -> Result<Self> {
        Ok(Self {
            repos,
            per_client: FailureLimiter::new(
                settings.max_failures_per_client,
                settings.failure_window,
            ),
            per_account: FailureLimiter::new(
                settings.max_failures_per_account,
                settings.failure_window,
            ),
            per_address: FailureLimiter::new(
                settings.max_failures_per_address,
                settings.failure_window,
            ),
            hashing: tokio::sync::Semaphore::new(settings.max_concurrent_hashes.max(1)),
            settings,
            dummy_hash: tokio::sync::OnceCell::new(),
            confirmed: crate::memo::Memo::default(),
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks email and password. The error never says which was wrong.
    #[instrument(skip_all)]
    /// The agent whose password this is, or `None`. At most
    /// `max_concurrent_hashes` run at once; beyond that the login is
    /// refused at once rather than queued behind the others.
    ///
    /// An address may belong to agents of several tenants: the password is
    /// checked against each (oldest first, at most [`MAX_ACCOUNTS_PER_ADDRESS`])
    /// unless `tenant` names one, and the first it opens is the answer.
    async fn verify(
        &self,
        email: &str,
        password: &str,
        tenant: Option<&str>,
    ) -> Result<Option<Agent>> {
        let Ok(_slot) = self.hashing.try_acquire() else {
            metrics::counter!("chat_rate_limited_total", "what" => "password_checks").increment(1);
            return Err(Error::RateLimited {
                retry_after: std::time::Duration::from_secs(1),
            });
        };
        let mut found = match Email::parse(email) {
            Ok(email) => self.repos.agents.find_credentials(&email).await?,
            Err(_) => Vec::new(),
        };
        if let Some(slug) = tenant {
            let tenant = match chat_domain::TenantSlug::parse(slug) {
                Ok(slug) => self.repos.tenants.find_by_slug(&slug).await?,
                Err(_) => None,
            };
            found.retain(|(a, _)| tenant.as_ref().is_some_and(|t| t.id == a.tenant_id));
        }
        if found.is_empty() {
            // As long as a wrong password takes, so that the answer's time
            // does not tell an unknown address either.
            verify_password(password, self.dummy_hash().await?).await?;
            return Ok(None);
        }
        for (agent, hash) in found.into_iter().take(MAX_ACCOUNTS_PER_ADDRESS) {
            if verify_password(password, &hash).await? {
                return Ok(Some(agent));
            }
        }
        Ok(None)
    }

    /// Made on the first unknown email rather than at start-up, where an
    /// argon2 hash would cost every server start and admin command.
    async fn dummy_hash(&self) -> Result<&str> {
        self.dummy_hash
            .get_or_try_init(|| async { hash_password(&new_secret()).await })
            .await
            .map(String::as_str)
    }

    pub async fn login(&self, email: &str, password: &str, client: &str) -> Result<LoginOutcome> {
        self.login_to(email, password, client, None).await
    }

    /// Login, optionally naming the tenant (its slug) when one address has
    /// accounts at several.
    pub async fn login_to(
        &self,
        email: &str,
        password: &str,
        client: &str,
        tenant: Option<&str>,
    ) -> Result<LoginOutcome> {
        let account_key = email.trim().to_ascii_lowercase();
        let client_key = format!("{account_key}|{client}");
        let now = Instant::now();
        // Each attempt is counted before the password is checked, so that
        // parallel attempts cannot all pass while the first ones hash.
        let counted = [
            (&self.per_client, client_key.as_str()),
            (&self.per_account, account_key.as_str()),
            (&self.per_address, client),
        ];
        for (i, (limiter, key)) in counted.iter().enumerate() {
            if let Err(wait) = limiter.attempt(key, now) {
                metrics::counter!("chat_rate_limited_total", "what" => "logins").increment(1);
                for (earlier, key) in &counted[..i] {
                    earlier.forgive(key);
                }
                return Err(Error::RateLimited { retry_after: wait });
            }
        }
        let verified = self.verify(email, password, tenant).await;
        let agent = match verified {
            Ok(Some(agent)) => agent,
            // A refused hash slot or a storage error is no failed guess.
            Err(e) => {
                for (limiter, key) in &counted {
                    limiter.forgive(key);
                }
                return Err(e);
            }
            Ok(None) => return Err(Error::Unauthorized("invalid email or password")),
        };
        self.per_account.forgive(&account_key);
        self.per_address.forgive(client);
        self.per_client.reset(&client_key);
        let token = new_secret();
        let expires_at = chrono::Utc::now() + self.settings.token_ttl;
        self.repos
            .tokens
            .insert(
                TokenKind::Access,
                &hash_secret(&token),
                &agent,
                expires_at,
                None,
            )
            .await?;
        tracing::info!(tenant = %agent.tenant_id, agent = %agent.id, "agent logged in");
        Ok(LoginOutcome {
            token,
            agent,
            expires_at,
        })
    }

    /// The agent behind a bearer token: a login's access token, or an API
    /// token (acting as the admin who made it, within its scopes).
    pub async fn authenticate(&self, token: &str) -> Result<AgentCtx> {
        if let Some(secret) = token.strip_prefix(API_TOKEN_PREFIX) {
            return self.authenticate_api_token(token, secret).await;
        }
        if !is_well_formed_secret(token) {
            return Err(Error::Unauthorized("invalid or expired token"));
        }
        let hash = hash_secret(token);
        let record = self
            .repos
            .tokens
            .find(TokenKind::Access, &hash, chrono::Utc::now())
            .await?
            .ok_or(Error::Unauthorized("invalid or expired token"))?;
        Ok(AgentCtx {
            agent: record.agent,
            credential: hash,
            expires_at: record.expires_at,
            scopes: None,
        })
    }

    /// Whether the access token under this digest is still valid (not
    /// revoked, not expired, its agent active). A storage error is an
    /// error, not a `false`: an unreachable database revokes nothing.
    ///
    /// A credential found valid less than `fresh_for` ago is taken as still
    /// valid without asking the database: every socket of a login checks it
    /// at each heartbeat, and a node holding thousands of an agent's (or a
    /// team's) sockets would otherwise read the token once a socket. A
    /// revocation through this node forgets every such answer at once; one
    /// made elsewhere (another node, the command line) is seen within
    /// `fresh_for` more.
    pub async fn credential_valid(&self, credential: &str, fresh_for: Duration) -> Result<bool> {
        let seen = self.confirmed.get(credential);
        if seen.is_some_and(|at| at.elapsed() < fresh_for) {
            return Ok(true);
        }
        let valid = self
            .repos
            .tokens
            .find(TokenKind::Access, credential, chrono::Utc::now())
            .await?
            .is_some();
        if valid {
            self.confirmed.insert(credential.to_owned(), Instant::now());
        } else {
            self.confirmed.remove(credential);
        }
        Ok(valid)
    }

    /// After a revocation through this node: no remembered answer stands.
    fn forget_confirmed(&self) {
        self.confirmed.clear();
    }

    async fn authenticate_api_token(&self, token: &str, secret: &str) -> Result<AgentCtx> {
        let invalid = Error::Unauthorized("invalid or revoked token");
        if !is_well_formed_secret(secret) {
            return Err(invalid);
        }
        let hash = hash_secret(token);
        let (record, agent) = self
            .repos
            .api_tokens
            .find_by_hash(&hash, chrono::Utc::now())
            .await?
            .ok_or(invalid)?;
        Ok(AgentCtx {
            agent,
            credential: hash,
            // API tokens live until revoked.
            expires_at: chrono::DateTime::<chrono::Utc>::MAX_UTC,
            scopes: Some(record.scopes),
        })
    }

    /// Revokes the token (and the tickets issued from it). Returns the
    /// credential id whose live connections should now be closed.
    pub async fn logout(&self, ctx: &AgentCtx) -> Result<()> {
        ctx.require_login()?;
        self.repos.tokens.revoke(&ctx.credential).await?;
        self.forget_confirmed();
        Ok(())
    }

    /// A single-use ticket for a browser's WebSocket upgrade, which cannot
    /// carry an `Authorization` header.
    pub async fn issue_ws_ticket(&self, ctx: &AgentCtx) -> Result<(String, Timestamp)> {
        // API tokens are for the REST API, not for sockets.
        ctx.require_login()?;
        let ticket = new_secret();
        let expires_at = (chrono::Utc::now() + self.settings.ticket_ttl).min(ctx.expires_at);
        self.repos
            .tokens
            .insert(
                TokenKind::WsTicket,
                &hash_secret(&ticket),
                &ctx.agent,
                expires_at,
                Some(&ctx.credential),
            )
            .await?;
        Ok((ticket, expires_at))
    }

    /// Redeems a ticket once. The connection it opens lives as long as the
    /// access token the ticket was issued from.
    pub async fn redeem_ws_ticket(&self, ticket: &str) -> Result<AgentCtx> {
        let invalid = Error::Unauthorized("invalid or expired ticket");
        if !is_well_formed_secret(ticket) {
            return Err(invalid);
        }
        let now = chrono::Utc::now();
        let record = self
            .repos
            .tokens
            .consume(TokenKind::WsTicket, &hash_secret(ticket), now)
            .await?
            .ok_or(Error::Unauthorized("invalid or expired ticket"))?;
        let parent = record
            .parent_hash
            .ok_or(Error::Unauthorized("invalid or expired ticket"))?;
        let access = self
            .repos
            .tokens
            .find(TokenKind::Access, &parent, now)
            .await?
            .ok_or(Error::Unauthorized("invalid or expired ticket"))?;
        Ok(AgentCtx {
            agent: access.agent,
            credential: parent,
            expires_at: access.expires_at,
            scopes: None,
        })
    }

    /// Creates an agent in a tenant. `by` is the admin doing it, or `None`
    /// for the operator's command line.
    #[instrument(skip_all, fields(tenant = %tenant))]
    pub async fn create_agent(
        &self,
        by: Option<&AgentCtx>,
        tenant: &TenantId,
        input: NewAgentInput<'_>,
    ) -> Result<Agent> {
        if let Some(ctx) = by {
            ctx.require_admin()?;
            ctx.require(Scope::AgentsWrite)?;
        }
        let new = NewAgent {
            name: parse_display_name("name", input.name)?,
            email: Email::parse(input.email)?,
            role: input.role,
            password_hash: hash_password(check_password(input.password)?).await?,
        };
        Ok(self.repos.agents.create(tenant, new).await?)
    }
}

impl AuthService {
    /// An admin changes an agent's name, role or active state. A
    /// deactivated agent's tokens (and the API tokens they made) are
    /// revoked at once; the caller closes their sockets.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), agent = %id))]
    pub async fn update_agent(
        &self,
        ctx: &AgentCtx,
        id: &AgentId,
        name: Option<&str>,
        role: Option<&str>,
        active: Option<bool>,
        max_concurrent: Option<Option<i64>>,
    ) -> Result<Agent> {
        ctx.require_admin()?;
        ctx.require(Scope::AgentsWrite)?;
        let patch = AgentPatch {
            name: name.map(|n| parse_display_name("name", n)).transpose()?,
            role: role.map(Role::parse).transpose()?,
            active,
            max_concurrent: max_concurrent
                .map(|cap| {
                    cap.map(|n| chat_domain::agent::parse_max_concurrent("max_concurrent", n))
                        .transpose()
                })
                .transpose()?,
        };
        self.apply_patch(ctx.tenant_id(), id, patch).await
    }

    /// The patch, and a deactivation's revocations.
    async fn apply_patch(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        patch: AgentPatch,
    ) -> Result<Agent> {
        let agent = self
            .repos
            .agents
            .update(tenant, id, patch)
            .await
            .map_err(Error::missing("agent"))?;
        if !agent.active {
            self.revoke_everything(&agent).await?;
            tracing::info!(tenant = %agent.tenant_id, agent = %agent.id, "agent deactivated");
        }
        Ok(agent)
    }

    async fn revoke_everything(&self, agent: &Agent) -> Result<()> {
        self.repos.tokens.revoke_agent(&agent.id, None).await?;
        self.forget_confirmed();
        self.repos
            .api_tokens
            .revoke_agent(&agent.tenant_id, &agent.id)
            .await?;
        Ok(())
    }

    /// The signed-in agent changes their own password; every other login
    /// of theirs is signed out (the caller closes those sockets).
    pub async fn change_password(&self, ctx: &AgentCtx, current: &str, new: &str) -> Result<()> {
        ctx.require_login()?;
        let key = format!("password-change|{}", ctx.agent.id);
        let now = Instant::now();
        self.per_client
            .attempt(&key, now)
            .map_err(|wait| Error::RateLimited { retry_after: wait })?;
        let stored = self
            .repos
            .agents
            .password_hash(ctx.tenant_id(), &ctx.agent.id)
            .await?;
        if !verify_password(current, &stored).await? {
            return Err(ValidationError::new("current_password", "is not correct").into());
        }
        self.per_client.reset(&key);
        let hash = hash_password(check_password(new)?).await?;
        self.repos
            .agents
            .set_password(ctx.tenant_id(), &ctx.agent.id, hash)
            .await?;
        self.repos
            .tokens
            .revoke_agent(&ctx.agent.id, Some(&ctx.credential))
            .await?;
        self.forget_confirmed();
        tracing::info!(tenant = %ctx.tenant_id(), agent = %ctx.agent.id, "password changed");
        Ok(())
    }

    /// The operator sets a new password; every login of the agent ends.
    pub async fn reset_password(&self, tenant: &TenantId, id: &AgentId, new: &str) -> Result<()> {
        let hash = hash_password(check_password(new)?).await?;
        self.repos
            .agents
            .set_password(tenant, id, hash)
            .await
            .map_err(Error::missing("agent"))?;
        self.repos.tokens.revoke_agent(id, None).await?;
        self.forget_confirmed();
        Ok(())
    }

    /// The operator's role and activation changes: the same rules as an
    /// admin's, without an admin.
    pub async fn operator_update_agent(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        patch: AgentPatch,
    ) -> Result<Agent> {
        self.apply_patch(tenant, id, patch).await
    }

    /// A new API token; the secret is returned here once and stored only
    /// as its digest.
    pub async fn create_api_token(
        &self,
        ctx: &AgentCtx,
        name: &str,
        scopes: &[String],
    ) -> Result<(ApiToken, String)> {
        ctx.require_login()?;
        ctx.require_admin()?;
        let name = parse_display_name("name", name)?;
        let scopes = Scope::parse_list(scopes)?;
        let secret = format!("{API_TOKEN_PREFIX}{}", new_secret());
        let token = self
            .repos
            .api_tokens
            .create(
                ctx.tenant_id(),
                NewApiToken {
                    agent_id: ctx.agent.id.clone(),
                    name,
                    scopes,
                    token_hash: hash_secret(&secret),
                },
            )
            .await?;
        Ok((token, secret))
    }

    pub async fn api_tokens(&self, ctx: &AgentCtx) -> Result<Vec<ApiToken>> {
        ctx.require_login()?;
        ctx.require_admin()?;
        Ok(self.repos.api_tokens.list(ctx.tenant_id()).await?)
    }

    pub async fn revoke_api_token(&self, ctx: &AgentCtx, id: &str) -> Result<()> {
        ctx.require_login()?;
        ctx.require_admin()?;
        if self.repos.api_tokens.delete(ctx.tenant_id(), id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("api token"))
        }
    }
}

/// API tokens start with this, so that one is told from a login's token
/// (and from other secrets, in logs and secret scanners) at a glance.
pub const API_TOKEN_PREFIX: &str = "plt_";

pub struct NewAgentInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
}

fn check_password(password: &str) -> Result<&str, ValidationError> {
    let len = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&len) {
        return Err(ValidationError::new(
            "password",
            format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    Ok(password)
}

/// Hashes with argon2id on a blocking thread: a hash takes tens of
/// milliseconds of CPU, which must not stall the async workers.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    crate::blocking("hashing", move || {
        hash_with_salt(&password, &SaltString::generate(&mut OsRng))
    })
    .await?
}

/// The PHC string of argon2id with its default parameters, as the argon2
/// crate writes it.
fn hash_with_salt(password: &str, salt: &SaltString) -> Result<String> {
    let argon = Argon2::default();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(internal_hash)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, password.as_bytes(), salt_bytes, &mut out)?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(internal_hash)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(internal_hash)?),
    }
    .to_string())
}

async fn verify_password(password: &str, phc: &str) -> Result<bool> {
    if password.len() > MAX_PASSWORD * 4 {
        return Ok(false);
    }
    let password = password.to_owned();
    let phc = phc.to_owned();
    crate::blocking("verify", move || {
        let unreadable = |e: argon2::password_hash::Error| {
            Error::Internal(format!("stored hash unreadable: {e}"))
        };
        let parsed = PasswordHash::new(&phc).map_err(unreadable)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(Error::Internal("stored hash has no salt or hash".into()));
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unreadable)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| unreadable(e.into()))?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(unreadable)?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(unreadable)?;
        let mut out = vec![0u8; expected.len()];
        argon2_into(
            &Argon2::new(algorithm, version, params),
            password.as_bytes(),
            salt_bytes,
            &mut out,
        )?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(&out).map_err(unreadable)? == expected)
    })
    .await?
}

/// At least this much working memory is reserved for a hash (in 1 KiB
/// blocks): 32 MiB, glibc's largest dynamic mmap threshold. The default
/// argon2id parameters use 19 MiB; allocated as such, glibc serves every
/// hash after the first from its heap and keeps the memory afterwards
/// (each login at once added about 19 MiB to the process for good). A
/// reservation this large is always mapped fresh and unmapped when the hash
/// is done, and only the blocks the hash uses are ever touched.
const HASH_RESERVATION_BLOCKS: usize = 32 * 1024 + 1;

/// argon2 with working memory that goes back to the system afterwards.
fn argon2_into(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<()> {
    let blocks = argon.params().block_count();
    let mut memory: Vec<Block> = Vec::with_capacity(blocks.max(HASH_RESERVATION_BLOCKS));
    memory.resize(blocks, Block::default());
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory)
        .map_err(internal_hash)
}

fn internal_hash(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("hashing password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn passwords_hash_and_verify_as_the_argon2_crate_does() {
        // With one salt, our hash is the crate's, byte for byte.
        let salt = SaltString::generate(&mut OsRng);
        assert_eq!(
            hash_with_salt("correct horse battery", &salt).expect("hash"),
            Argon2::default()
                .hash_password(b"correct horse battery", &salt)
                .expect("hash")
                .to_string()
        );
        // The crate's own verifier accepts a hash of ours.
        let ours = hash_password("correct horse battery").await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Ours accepts the crate's hashes (those stored before), with other
        // parameters too, and refuses a wrong password.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 2, 1, None).expect("params"),
        )
        .hash_password(b"another secret", &salt)
        .expect("hash")
        .to_string();
        for (password, phc, right) in [
            ("correct horse battery", &ours, true),
            ("correct horse batterY", &ours, false),
            ("another secret", &theirs, true),
            ("", &theirs, false),
        ] {
            assert_eq!(
                verify_password(password, phc).await.expect("verify"),
                right,
                "{password:?}"
            );
        }
        assert!(verify_password("x", "not a hash").await.is_err());
    }
}
