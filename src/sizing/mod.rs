//! Sizing from real data: Green Button usage import, the PVWatts production model driven by
//! typical-year weather (TMY3), and the figures a quote is built from.

pub mod greenbutton;
pub mod pvwatts;
pub mod pvwatts_api;
pub mod solar;
pub mod tmy;
pub mod weather;
