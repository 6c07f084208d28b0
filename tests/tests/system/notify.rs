#![cfg(test)]
//! Notifications against moto SNS and a local webhook receiver (to be filled).
