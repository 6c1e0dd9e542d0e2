use crate::access::Routes;
pub fn router() -> Routes {
    Routes::new()
}
