//! A fake token signer: a readable, deterministic "token" naming what was signed and when, and the
//! requests it signed; or a failure, as a provider without credentials fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::domain::diag::Diagnostic;
use crate::domain::service::auth_token::{Signed, TokenRequest, TokenSigner, TOKEN_LIFETIME};

#[derive(Clone, Default)]
pub struct FakeSigner {
    /// Every request signed, with its time.
    pub signed: Arc<Mutex<Vec<(TokenRequest, SystemTime)>>>,
    /// Answered instead of signing.
    pub fail: Arc<Mutex<Option<Diagnostic>>>,
    /// The credentials expire this long after signing (None: they do not).
    pub credentials_left: Option<Duration>,
}

#[async_trait]
impl TokenSigner for FakeSigner {
    async fn sign(&self, req: &TokenRequest, at: SystemTime) -> Result<Signed, Diagnostic> {
        if let Some(d) = self.fail.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(d);
        }
        self.signed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((req.clone(), at));
        let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let life = self
            .credentials_left
            .map_or(TOKEN_LIFETIME, |c| c.min(TOKEN_LIFETIME));
        Ok(Signed {
            token: format!("fake-token/{}/{}/{secs}", req.cache_name, req.user_id),
            expires_at: at + life,
        })
    }
}
