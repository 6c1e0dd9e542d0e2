//! Payment providers behind one trait: the server asks for a checkout of an amount it
//! computed, the customer pays on the provider's page, and the provider confirms through a
//! signed webhook. `Stripe` speaks Stripe Checkout; `Dev` is a local stand-in with the same
//! shape (a checkout URL, then a Stripe-signed `checkout.session.completed` event), so the
//! whole flow runs offline in development and tests.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::{PaymentProvider as Choice, Settings};
use crate::ids::{OrderId, PaymentId};
use crate::outbound::{OutboundClient, Request};

/// What the server asks a provider for. The amount comes from the order, never the client.
#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub amount_cents: i64,
    pub currency: String,
    pub description: String,
    pub success_url: String,
    pub cancel_url: String,
}

/// The provider's checkout: its id (the webhook names it) and where to send the customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    pub id: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the payment provider refused the checkout (HTTP {0})")]
    Refused(u16),
    #[error("the payment provider's answer could not be read")]
    BadAnswer,
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The name stored with each payment (`stripe`, `dev`).
    fn name(&self) -> &'static str;
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError>;
}

/// The provider the settings choose.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    Ok(match settings.payment_provider {
        Choice::Dev => Arc::new(Dev {
            public_url: settings.public_url.clone(),
        }),
        Choice::Stripe => Arc::new(Stripe {
            api_url: settings.stripe_api_url.clone(),
            api_key: settings
                .stripe_api_key
                .clone()
                .ok_or_else(|| anyhow::anyhow!("stripe_api_key is missing"))?,
            client: OutboundClient::new(settings.outbound_allow_local),
        }),
    })
}

/// The local stand-in: a checkout page on this server (`/dev-payments/{id}`) whose "Pay"
/// button makes the same signed event Stripe would send.
pub struct Dev {
    pub public_url: Url,
}

#[async_trait::async_trait]
impl PaymentProvider for Dev {
    fn name(&self) -> &'static str {
        "dev"
    }

    async fn create_checkout(&self, _request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        let id = format!("cs_dev_{}", crate::crypto::random_token());
        let url = crate::auth::signup::link(&self.public_url, &format!("/dev-payments/{id}"), None);
        Ok(Checkout { id, url })
    }
}

/// Stripe Checkout (`POST /v1/checkout/sessions`), through the outbound guard.
pub struct Stripe {
    pub api_url: Url,
    pub api_key: SecretString,
    pub client: OutboundClient,
}

#[derive(Deserialize)]
struct Session {
    id: String,
    url: String,
}

impl Stripe {
    /// The form Stripe takes, in its bracketed-key encoding.
    pub fn form(request: &CheckoutRequest) -> Vec<(String, String)> {
        let pairs = [
            ("mode", "payment".to_owned()),
            ("client_reference_id", request.payment_id.to_string()),
            ("metadata[order_id]", request.order_id.to_string()),
            ("metadata[payment_id]", request.payment_id.to_string()),
            ("line_items[0][quantity]", "1".to_owned()),
            (
                "line_items[0][price_data][currency]",
                request.currency.to_ascii_lowercase(),
            ),
            (
                "line_items[0][price_data][unit_amount]",
                request.amount_cents.to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                request.description.clone(),
            ),
            ("success_url", request.success_url.clone()),
            ("cancel_url", request.cancel_url.clone()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, ProviderError> {
        let url = self
            .api_url
            .join("v1/checkout/sessions")
            .map_err(|_| ProviderError::Unreachable("bad stripe_api_url".into()))?;
        let body = serde_html_form::to_string(Self::form(request)).map_err(|_| ProviderError::BadAnswer)?;
        let answer = self
            .client
            .post(Request {
                url: &url,
                headers: vec![
                    (
                        "authorization",
                        format!("Bearer {}", self.api_key.expose_secret()),
                    ),
                    // The same payment never makes two checkouts, even if this call is retried.
                    ("idempotency-key", request.payment_id.to_string()),
                ],
                body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
            })
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        if !(200..300).contains(&answer.status) {
            return Err(ProviderError::Refused(answer.status));
        }
        let session: Session = serde_json::from_slice(&answer.body).map_err(|_| ProviderError::BadAnswer)?;
        Ok(Checkout {
            id: session.id,
            url: session.url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stripe_form_carries_the_server_computed_amount_and_our_references() {
        let request = CheckoutRequest {
            payment_id: PaymentId::new(),
            order_id: OrderId::new(),
            amount_cents: 184_500,
            currency: "USD".into(),
            description: "Deposit".into(),
            success_url: "https://sunbridge.example/orders/1?paid=1".into(),
            cancel_url: "https://sunbridge.example/orders/1".into(),
        };
        let form = Stripe::form(&request);
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("line_items[0][price_data][unit_amount]"), Some("184500"));
        assert_eq!(get("line_items[0][price_data][currency]"), Some("usd"));
        assert_eq!(get("mode"), Some("payment"));
        assert_eq!(
            get("client_reference_id"),
            Some(request.payment_id.to_string().as_str())
        );
        let encoded = serde_html_form::to_string(&form).unwrap();
        assert!(encoded.contains("line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=184500"));
    }
}
