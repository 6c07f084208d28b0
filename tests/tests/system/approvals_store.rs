#![cfg(test)]
//! The approval and break-glass stores against moto and DynamoDB Local (to be filled).
