//! Who may do what (S-AC-2): the named permissions and the one table of role → permissions.
//! Every route names the permission it needs (see `routes.rs`); this table decides which
//! roles hold it. Object-level rules (whose data, which crew) live in the services.

use super::Role;

macro_rules! permissions {
    ($( $(#[$doc:meta])* $marker:ident => $name:literal, )*) => {
        /// A named verb a role may hold.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $( $(#[$doc])* $marker, )*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$marker),*];

            /// The stable name reports, audit rows and the route table use.
            pub fn name(self) -> &'static str {
                match self {
                    $( Permission::$marker => $name, )*
                }
            }
        }

        /// One zero-sized type per permission, for extractors: `Caller<perm::ViewCustomers>`.
        pub mod perm {
            $(
                $(#[$doc])*
                #[derive(Debug)]
                pub struct $marker;
                impl super::Need for $marker {
                    const PERMISSION: super::Permission = super::Permission::$marker;
                }
            )*
        }
    };
}

/// Implemented by the markers in `perm`: the permission an extractor demands.
pub trait Need: Send + Sync + 'static {
    const PERMISSION: Permission;
}

permissions! {
    /// One's own profile, password, second factor and sessions.
    OwnAccount => "account.own",
    /// The list of staff who opened my personal data (S-AC-6).
    OwnDataAccess => "account.data_access.read",
    /// My homes: their roof facts, the usage imported for them, and their quotes.
    OwnSites => "site.own",
    /// Find customers and see their accounts with personal data masked.
    ViewCustomers => "customer.view",
    /// Open one customer's personal data for a stated reason, for a limited time (S-AC-5).
    ReadCustomerPii => "customer.pii.read",
    /// Help a customer with their account: end their sessions, resend the confirmation link.
    AssistCustomers => "customer.assist",
    /// The sales pipeline: names, stages and figures, no street address, phone or payments.
    ReadPipeline => "sales.pipeline.read",
    /// Invite staff, change their roles, disable them.
    ManageStaff => "staff.manage",
    /// The access review report: every staff account, its second factor, its last sign-in.
    ReviewAccess => "staff.access_review.read",
    /// The audit trail (it holds ids, never personal data).
    ReadAudit => "audit.read",
    /// The panel catalog and the regions' prices, tariffs and yields.
    ManageCatalog => "catalog.manage",
    /// Any customer's quotes: sizes, prices and savings (quotes hold no personal data).
    ReadQuotes => "quote.read",
    /// My orders: accept a quote, pay the deposit, book the survey and the installation,
    /// follow the job and approve its design.
    OwnOrders => "order.own",
    /// Jobs one is a party to: one's own (customers), one's crew's (installers), or any (staff
    /// who read jobs). The service decides which, and answers 404 for the rest.
    ViewJobs => "job.view",
    /// An installer's work: the offers made to my crew, the jobs assigned to it, their steps
    /// and photos.
    WorkJobs => "job.work",
    /// Any job, its timeline and photos (personal data masked without a grant).
    ReadJobs => "job.read",
    /// The company's steps of a job (design, permits, inspection, the utility's permission)
    /// and cancellations.
    ManageJobs => "job.manage",
    /// Installer companies, crews, their members, service areas and calendars.
    ManageCrews => "crew.manage",
    /// The automatic defence: blocked addresses, and lifting a block.
    ManageSecurity => "security.manage",
}

use Permission::*;

/// The whole policy. Engineers hold nothing that shows personal data; sales sees its pipeline
/// only; support and admins see personal data only through a grant with a reason.
pub const POLICY: &[(Role, &[Permission])] = &[
    (
        Role::Customer,
        &[OwnAccount, OwnDataAccess, OwnSites, OwnOrders, ViewJobs],
    ),
    (Role::Installer, &[OwnAccount, WorkJobs, ViewJobs]),
    (
        Role::Support,
        &[
            OwnAccount,
            ViewCustomers,
            ReadCustomerPii,
            AssistCustomers,
            ReadQuotes,
            ViewJobs,
            ReadJobs,
            ManageJobs,
        ],
    ),
    (Role::Sales, &[OwnAccount, ReadPipeline, ReadQuotes]),
    (Role::Engineer, &[OwnAccount, ReadAudit]),
    (
        Role::Admin,
        &[
            OwnAccount,
            ViewCustomers,
            ReadCustomerPii,
            AssistCustomers,
            ReadPipeline,
            ManageStaff,
            ReviewAccess,
            ReadAudit,
            ManageCatalog,
            ReadQuotes,
            ViewJobs,
            ReadJobs,
            ManageJobs,
            ManageCrews,
            ManageSecurity,
        ],
    ),
];

/// Does `role` hold `permission`?
pub fn allows(role: Role, permission: Permission) -> bool {
    POLICY
        .iter()
        .find(|(r, _)| *r == role)
        .is_some_and(|(_, granted)| granted.contains(&permission))
}

/// Does `role` hold any permission of the back office (the staff pages under `/staff`)?
pub fn has_back_office(role: Role) -> bool {
    [
        ViewCustomers,
        ReadPipeline,
        ManageStaff,
        ReviewAccess,
        ReadAudit,
        ManageCatalog,
        ReadJobs,
        ManageCrews,
        ManageSecurity,
    ]
    .into_iter()
    .any(|p| allows(role, p))
}

/// The roles that hold `permission` (for the route table and reports).
pub fn roles_with(permission: Permission) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| allows(*role, permission))
        .collect()
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_appears_once_in_the_table() {
        for role in Role::ALL {
            assert_eq!(POLICY.iter().filter(|(r, _)| *r == role).count(), 1, "{role}");
        }
    }

    #[test]
    fn every_permission_is_held_by_some_role() {
        for p in Permission::ALL {
            assert!(!roles_with(*p).is_empty(), "{p} is held by nobody");
        }
    }

    #[test]
    fn engineers_and_sales_hold_nothing_that_opens_personal_data() {
        for role in [Role::Engineer, Role::Sales, Role::Installer, Role::Customer] {
            assert!(!allows(role, ReadCustomerPii), "{role}");
            assert!(!allows(role, ViewCustomers), "{role}");
        }
    }

    #[test]
    fn only_admins_manage_staff() {
        assert_eq!(roles_with(ManageStaff), vec![Role::Admin]);
        assert_eq!(roles_with(ReviewAccess), vec![Role::Admin]);
    }

    #[test]
    fn permission_names_are_unique() {
        let mut names: Vec<_> = Permission::ALL.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
    }
}
