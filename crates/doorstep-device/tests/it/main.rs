//! The device core's integration tests, one test binary: real enrolled, encrypted stores
//! against a real hub, and stores written by earlier releases (see each module).

mod conversation;
mod could_not;
mod device;
mod early_warning;
mod escalation;
mod follow_up;
mod office_day;
mod outcomes;
mod pins;
mod routing;
mod seams;
mod upgrade;
