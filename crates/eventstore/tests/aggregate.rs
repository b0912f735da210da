//! The aggregate shape: pure decide/apply tested given/when/then, and the
//! repository that loads, decides and appends without losing updates.

mod common;

use std::sync::Arc;

use common::metadata;
use hellowork_eventstore::{Aggregate, DomainEvent, ExecuteError, Repository, StreamId};
use hellowork_testing::{Scenario, TestSchema};
use tokio::sync::Barrier;

/// A minimal account: deposits must be positive, withdrawals covered.
#[derive(Debug, Default, Clone, PartialEq)]
struct Account {
    balance: i64,
}

#[derive(Debug, Clone, PartialEq)]
enum AccountEvent {
    Deposited(i64),
    Withdrawn(i64),
}

#[derive(Debug)]
enum AccountCommand {
    Deposit(i64),
    Withdraw(i64),
}

#[derive(Debug, PartialEq, thiserror::Error)]
enum AccountError {
    #[error("amount must be positive")]
    NotPositive,
    #[error("balance {balance} does not cover {amount}")]
    Insufficient { balance: i64, amount: i64 },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Deposited(_) => "Deposited",
            Self::Withdrawn(_) => "Withdrawn",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        let (Self::Deposited(amount) | Self::Withdrawn(amount)) = self;
        amount.to_le_bytes().to_vec()
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        let amount = i64::from_le_bytes(payload.try_into().map_err(|_| "payload is not 8 bytes")?);
        match event_type {
            "Deposited" => Ok(Self::Deposited(amount)),
            "Withdrawn" => Ok(Self::Withdrawn(amount)),
            other => Err(format!("unknown event type {other}")),
        }
    }
}

impl Aggregate for Account {
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;

    fn decide(&self, command: &AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        match *command {
            AccountCommand::Deposit(amount) | AccountCommand::Withdraw(amount) if amount <= 0 => {
                Err(AccountError::NotPositive)
            }
            AccountCommand::Deposit(amount) => Ok(vec![AccountEvent::Deposited(amount)]),
            AccountCommand::Withdraw(amount) if amount > self.balance => {
                Err(AccountError::Insufficient {
                    balance: self.balance,
                    amount,
                })
            }
            AccountCommand::Withdraw(amount) => Ok(vec![AccountEvent::Withdrawn(amount)]),
        }
    }

    fn apply(self, event: &AccountEvent) -> Self {
        match event {
            AccountEvent::Deposited(amount) => Self {
                balance: self.balance + amount,
            },
            AccountEvent::Withdrawn(amount) => Self {
                balance: self.balance - amount,
            },
        }
    }
}

#[test]
fn given_a_balance_a_covered_withdrawal_is_recorded() {
    Scenario::<Account>::given([AccountEvent::Deposited(100)])
        .when(AccountCommand::Withdraw(60))
        .then_events([AccountEvent::Withdrawn(60)]);
}

#[test]
fn given_a_balance_an_uncovered_withdrawal_is_refused() {
    let error =
        Scenario::<Account>::given([AccountEvent::Deposited(50), AccountEvent::Withdrawn(20)])
            .when(AccountCommand::Withdraw(31))
            .then_error();
    assert_eq!(
        error,
        AccountError::Insufficient {
            balance: 30,
            amount: 31
        }
    );
}

#[tokio::test]
async fn the_repository_folds_what_it_appended() {
    let db = TestSchema::create("repo").await;
    let repository = Repository::<Account>::new(common::store(&db.pool));
    let stream = StreamId::new("account-repo").unwrap();

    repository
        .execute(&stream, &AccountCommand::Deposit(100), &metadata())
        .await
        .unwrap();
    let (events, outcome) = repository
        .execute(&stream, &AccountCommand::Withdraw(30), &metadata())
        .await
        .unwrap();
    assert_eq!(events, vec![AccountEvent::Withdrawn(30)]);
    assert_eq!(outcome.stream_version, 2);

    let refused = repository
        .execute(&stream, &AccountCommand::Withdraw(71), &metadata())
        .await;
    assert!(matches!(
        refused,
        Err(ExecuteError::Domain(AccountError::Insufficient {
            balance: 70,
            ..
        }))
    ));

    let loaded = repository.load(&stream).await.unwrap();
    assert_eq!((loaded.state.balance, loaded.version), (70, 2));
}

#[tokio::test]
async fn concurrent_commands_never_lose_an_update() {
    let db = TestSchema::create("lostupdate").await;
    let repository = Repository::<Account>::new(common::store(&db.pool));
    let stream = StreamId::new("account-contended").unwrap();
    let barrier = Arc::new(Barrier::new(12));

    let tasks: Vec<_> = (1..=12)
        .map(|amount| {
            let (repository, stream, barrier) =
                (repository.clone(), stream.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                repository
                    .execute(&stream, &AccountCommand::Deposit(amount), &metadata())
                    .await
                    .map(|_| amount)
            })
        })
        .collect();
    let mut acknowledged = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(amount) => acknowledged += amount,
            // Under heavy contention a command may give up; it must then
            // have written nothing.
            Err(ExecuteError::Contention { .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert!(acknowledged > 0);
    let loaded = repository.load(&stream).await.unwrap();
    assert_eq!(
        loaded.state.balance, acknowledged,
        "every acknowledged deposit, and only those"
    );
}
