//! What the identity services' errors mean over HTTP, once for the API and the pages. The
//! sign-in and account pages answer most of these with a message on the form; what they do not
//! handle themselves takes the status given here.

use super::credentials::CredentialError;
use super::login::{LoginError, RefreshError};
use super::mfa::MfaError;
use super::profile::ProfileError;
use super::signup::{SignupError, VerifyError};
use crate::http::{ApiError, DomainError, FieldError};

impl From<SignupError> for ApiError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::Invalid(fields) => ApiError::Validation(
                fields
                    .into_iter()
                    .map(|(field, code, _)| FieldError {
                        field: field.into(),
                        code,
                    })
                    .collect(),
            ),
            SignupError::WeakPassword(problem) => ApiError::WeakPassword(problem),
            SignupError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for SignupError {}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::InvalidToken => ApiError::InvalidToken,
            VerifyError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for VerifyError {}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => ApiError::Unauthorized {
                code: "invalid_credentials",
            },
            LoginError::RateLimited { retry_after_secs } => ApiError::RateLimited { retry_after_secs },
            LoginError::Unavailable { retry_after_secs } => ApiError::UnavailableFor { retry_after_secs },
            LoginError::InvalidCode => ApiError::Unauthorized { code: "invalid_code" },
            LoginError::AddressBlocked => ApiError::Forbidden,
            LoginError::InvalidToken => ApiError::Unauthorized {
                code: "invalid_token",
            },
            LoginError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for LoginError {}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Invalid => ApiError::Unauthorized {
                code: "invalid_token",
            },
            RefreshError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for RefreshError {}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::WrongPassword => ApiError::Unauthorized {
                code: "invalid_credentials",
            },
            CredentialError::RateLimited { retry_after_secs } => ApiError::RateLimited { retry_after_secs },
            CredentialError::WeakPassword(problem) => ApiError::WeakPassword(problem),
            CredentialError::InvalidToken => ApiError::InvalidToken,
            CredentialError::MfaRequired => ApiError::Unauthorized { code: "mfa_required" },
            CredentialError::InvalidCode => ApiError::Unauthorized { code: "invalid_code" },
            CredentialError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for CredentialError {}

impl From<MfaError> for ApiError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::AlreadyEnabled => ApiError::Conflict {
                code: "mfa_already_enabled",
            },
            MfaError::NotStarted => ApiError::Conflict {
                code: "mfa_not_enrolled",
            },
            MfaError::InvalidCode => ApiError::Unauthorized { code: "invalid_code" },
            MfaError::RateLimited { retry_after_secs } => ApiError::RateLimited { retry_after_secs },
            MfaError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for MfaError {}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid(field, _) => ApiError::Validation(vec![FieldError {
                field: field.into(),
                code: "invalid",
            }]),
            ProfileError::EmailTaken => ApiError::Conflict { code: "email_taken" },
            ProfileError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for ProfileError {}
