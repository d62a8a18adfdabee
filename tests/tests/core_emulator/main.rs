//! The core's engine against the local AWS emulator (moto with the launcher's patches): create, read,
//! a port change with no access gap, drift, attach/detach, import and delete, with the number of AWS
//! calls of each operation asserted from the emulator's own call log. Each step of the lifecycle is its
//! own test, so that a failure names the step.

mod bounds;
mod consistency;
mod lifecycle;
mod others;
mod scale;
mod support;
