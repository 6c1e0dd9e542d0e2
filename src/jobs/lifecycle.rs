//! The steps of a job (domain.md) and who may take each one. The table below is the whole
//! rule: a transition that is not in it does not exist, and one taken by the wrong party is
//! refused. Steps the system takes (a paid deposit, a crew confirming a booked day) are not
//! open to anyone through the transition route.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a job stands. The quote states come before a job exists; a job starts `accepted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Accepted,
    DepositPaid,
    SurveyScheduled,
    Surveyed,
    DesignApproved,
    PermitSubmitted,
    PermitApproved,
    InstallScheduled,
    Installed,
    InspectionPassed,
    PtoGranted,
    Active,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 13] = [
        JobState::Accepted,
        JobState::DepositPaid,
        JobState::SurveyScheduled,
        JobState::Surveyed,
        JobState::DesignApproved,
        JobState::PermitSubmitted,
        JobState::PermitApproved,
        JobState::InstallScheduled,
        JobState::Installed,
        JobState::InspectionPassed,
        JobState::PtoGranted,
        JobState::Active,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Accepted => "accepted",
            JobState::DepositPaid => "deposit_paid",
            JobState::SurveyScheduled => "survey_scheduled",
            JobState::Surveyed => "surveyed",
            JobState::DesignApproved => "design_approved",
            JobState::PermitSubmitted => "permit_submitted",
            JobState::PermitApproved => "permit_approved",
            JobState::InstallScheduled => "install_scheduled",
            JobState::Installed => "installed",
            JobState::InspectionPassed => "inspection_passed",
            JobState::PtoGranted => "pto_granted",
            JobState::Active => "active",
            JobState::Cancelled => "cancelled",
        }
    }

    /// What the customer reads on the timeline.
    pub fn label(self) -> &'static str {
        match self {
            JobState::Accepted => "Quote accepted",
            JobState::DepositPaid => "Deposit paid",
            JobState::SurveyScheduled => "Site survey scheduled",
            JobState::Surveyed => "Site surveyed",
            JobState::DesignApproved => "Design approved",
            JobState::PermitSubmitted => "Permit applied for",
            JobState::PermitApproved => "Permit approved",
            JobState::InstallScheduled => "Installation scheduled",
            JobState::Installed => "Installed",
            JobState::InspectionPassed => "Inspection passed",
            JobState::PtoGranted => "Permission to operate granted",
            JobState::Active => "System switched on",
            JobState::Cancelled => "Cancelled",
        }
    }

    /// The timeline's words for a booked visit that moved while the job was in this state.
    pub fn moved_label(self) -> &'static str {
        match self {
            JobState::DepositPaid | JobState::SurveyScheduled => "Site survey moved",
            JobState::PermitApproved | JobState::InstallScheduled => "Installation moved",
            other => other.label(),
        }
    }

    /// Cancellation is possible from any step before the panels are on the roof.
    pub fn cancellable(self) -> bool {
        self.position() < JobState::Installed.position() && self != JobState::Cancelled
    }

    /// Order along the happy path (cancelled last).
    pub fn position(self) -> usize {
        JobState::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(usize::MAX)
    }

    /// Finished one way or the other: nothing more happens to the job.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Active | JobState::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or(UnknownState)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state")]
pub struct UnknownState;

/// Who takes a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The customer who owns the job.
    Owner,
    /// A member of the crew assigned to the job.
    AssignedCrew,
    /// Staff holding `job.manage` (support, admins).
    Staff,
    /// The system itself: a paid deposit, a crew confirming a booked day. Never through the
    /// transition route.
    System,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Owner => "customer",
            Party::AssignedCrew => "assigned crew",
            Party::Staff => "staff",
            Party::System => "system",
        }
    }
}

use JobState::*;
use Party::*;

/// Every step of the happy path and who may take it.
pub const TRANSITIONS: &[(JobState, JobState, &[Party])] = &[
    (Accepted, DepositPaid, &[System]),
    (DepositPaid, SurveyScheduled, &[System]),
    (SurveyScheduled, Surveyed, &[AssignedCrew]),
    // The customer signs off the layout the survey produced; staff may record a sign-off
    // given by phone.
    (Surveyed, DesignApproved, &[Owner, Staff]),
    (DesignApproved, PermitSubmitted, &[AssignedCrew, Staff]),
    (PermitSubmitted, PermitApproved, &[AssignedCrew, Staff]),
    (PermitApproved, InstallScheduled, &[System]),
    (InstallScheduled, Installed, &[AssignedCrew]),
    (Installed, InspectionPassed, &[AssignedCrew, Staff]),
    // The utility's letter comes to the company.
    (InspectionPassed, PtoGranted, &[Staff]),
    (PtoGranted, Active, &[Owner, Staff]),
];

/// Who may cancel a job in `state`: the customer until a survey day is confirmed (the deposit
/// is refunded in full), staff at any step before installation.
pub fn may_cancel(state: JobState, party: Party) -> bool {
    if !state.cancellable() {
        return false;
    }
    match party {
        Owner => state.position() < SurveyScheduled.position(),
        Staff => true,
        AssignedCrew | System => false,
    }
}

/// Why a step was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepRefused {
    #[error("the job is at “{}” now, and “{}” does not follow that step", from.label(), to.label())]
    NoSuchStep { from: JobState, to: JobState },
    #[error("this step is taken by {0}")]
    NotYours(&'static str),
}

/// Checks that `party` may move a job from `from` to `to`.
pub fn check(from: JobState, to: JobState, party: Party) -> Result<(), StepRefused> {
    if to == Cancelled {
        if may_cancel(from, party) {
            return Ok(());
        }
        return if from.cancellable() {
            Err(StepRefused::NotYours(
                if from.position() < SurveyScheduled.position() {
                    "the customer or staff"
                } else {
                    "staff (a survey day is confirmed)"
                },
            ))
        } else {
            Err(StepRefused::NoSuchStep { from, to })
        };
    }
    let Some((_, _, parties)) = TRANSITIONS.iter().find(|(f, t, _)| *f == from && *t == to) else {
        return Err(StepRefused::NoSuchStep { from, to });
    };
    if parties.contains(&party) {
        Ok(())
    } else {
        Err(StepRefused::NotYours(
            parties.first().map_or("nobody", |p| p.as_str()),
        ))
    }
}

/// The steps `party` may take from `state` (what a page offers as buttons).
pub fn next_steps(state: JobState, party: Party) -> Vec<JobState> {
    let mut steps: Vec<JobState> = TRANSITIONS
        .iter()
        .filter(|(from, _, parties)| *from == state && parties.contains(&party))
        .map(|(_, to, _)| *to)
        .collect();
    if may_cancel(state, party) {
        steps.push(Cancelled);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_runs_from_acceptance_to_active_one_step_at_a_time() {
        let path: Vec<JobState> = JobState::ALL.into_iter().filter(|s| *s != Cancelled).collect();
        for pair in path.windows(2) {
            assert!(
                TRANSITIONS.iter().any(|(f, t, _)| *f == pair[0] && *t == pair[1]),
                "{} → {} missing",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(TRANSITIONS.len(), path.len() - 1, "no shortcut exists");
    }

    #[test]
    fn nobody_skips_a_step_or_goes_back() {
        for party in [Owner, AssignedCrew, Staff, System] {
            assert!(check(Surveyed, Installed, party).is_err());
            assert!(check(Installed, Surveyed, party).is_err());
            assert!(check(Active, Accepted, party).is_err());
        }
    }

    #[test]
    fn each_step_belongs_to_its_parties_only() {
        assert_eq!(check(SurveyScheduled, Surveyed, AssignedCrew), Ok(()));
        assert!(matches!(
            check(SurveyScheduled, Surveyed, Owner),
            Err(StepRefused::NotYours(_))
        ));
        assert!(check(InspectionPassed, PtoGranted, AssignedCrew).is_err());
        assert_eq!(check(InspectionPassed, PtoGranted, Staff), Ok(()));
        // Money and confirmed days are the system's alone.
        for party in [Owner, AssignedCrew, Staff] {
            assert!(check(Accepted, DepositPaid, party).is_err());
            assert!(check(DepositPaid, SurveyScheduled, party).is_err());
            assert!(check(PermitApproved, InstallScheduled, party).is_err());
        }
    }

    #[test]
    fn customers_cancel_until_a_survey_is_confirmed_and_staff_until_installation() {
        assert!(may_cancel(Accepted, Owner));
        assert!(may_cancel(DepositPaid, Owner));
        assert!(!may_cancel(SurveyScheduled, Owner));
        assert!(may_cancel(InstallScheduled, Staff));
        assert!(!may_cancel(Installed, Staff));
        assert!(!may_cancel(Cancelled, Staff));
        assert!(!may_cancel(Accepted, AssignedCrew));
        assert_eq!(next_steps(DepositPaid, Owner), vec![Cancelled]);
        assert_eq!(next_steps(Surveyed, Owner), vec![DesignApproved]);
    }

    #[test]
    fn state_names_round_trip() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("shipped".parse::<JobState>().is_err());
    }
}
