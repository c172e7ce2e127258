//! The refresh write path's group commit: rotations that arrive together are committed together, in
//! one write transaction, by one task per process.
//!
//! Why: every signed-in user refreshes about once a minute, and each refresh is a rotation of a few
//! small statements. On SQLite the database has one writer at a time, and with one transaction per
//! rotation the writer's turn spans all of its round trips to SQLite's thread (`BEGIN`, the
//! statements, `COMMIT`) — while the cores are busy signing tokens, each of those waits for the
//! scheduler, and refreshes queue behind the writer instead of the CPU. In groups, the rotations
//! waiting share one turn, one `BEGIN` and one `COMMIT`.
//!
//! How: a handler submits its [`Rotation`] and waits. The committer takes every rotation waiting (at
//! most `--refresh-batch-max`), runs [`refresh_tokens::rotate_in`] for each in arrival order inside one
//! write transaction, commits, and only then answers them — after reading their users in one query,
//! off the writer's turn, while the next group is already committing. Nothing waits to fill a group:
//! a group is whatever arrived while the previous one committed, so a lone refresh commits at once.
//!
//! Exactness is unchanged. The rotations of a group run one after another in one transaction, each
//! seeing the writes of those before it (one token twice in a group: rotated, then the grace answer).
//! On PostgreSQL the group first locks all its families in one statement, in session-id order, so two
//! replicas' groups never wait on each other in a circle; a family that statement missed is locked by
//! its own rotation. If any statement fails, the group rolls back and each of its rotations runs again
//! alone: a failure fails only its own request. Nothing is answered before its group has committed.
//!
//! A side effect that must commit with a rotation (a `session.*` webhook outbox row) belongs in
//! [`refresh_tokens::rotate_in`], which runs inside the group's transaction.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::refresh_tokens::{self, RefreshOutcome, Rotation, Step};
use super::sessions;
use super::{Store, StoreError};

/// Most rotations committed in one transaction unless configured (`--refresh-batch-max`).
pub const DEFAULT_MAX: usize = 64;

struct Job {
    rotation: Rotation,
    reply: oneshot::Sender<Result<RefreshOutcome, StoreError>>,
}

/// The queue to this process's committer.
#[derive(Debug)]
pub struct Rotations {
    queue: mpsc::Sender<Job>,
}

fn stopped() -> StoreError {
    StoreError::Corrupt("the refresh committer stopped".into())
}

impl Rotations {
    /// Starts the committer on `store` (a store without a committer of its own: it commits directly).
    /// It ends when every `Rotations` handle is gone.
    pub(super) fn start(store: Store, max: usize) -> Rotations {
        let max = max.max(1);
        let (queue, waiting) = mpsc::channel(max.saturating_mul(4));
        tokio::spawn(committer(store, waiting, max));
        Rotations { queue }
    }

    /// Queues `rotation` and waits for its outcome (committed).
    pub(super) async fn submit(&self, rotation: Rotation) -> Result<RefreshOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job { rotation, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn committer(store: Store, mut waiting: mpsc::Receiver<Job>, max: usize) {
    let mut group = Vec::with_capacity(max);
    while waiting.recv_many(&mut group, max).await > 0 {
        let jobs = std::mem::take(&mut group);
        let rotations: Vec<&Rotation> = jobs.iter().map(|j| &j.rotation).collect();
        match commit(&store, &rotations).await {
            Ok(steps) => answer(&store, jobs.into_iter().zip(steps.into_iter().map(Ok)).collect()),
            Err(e) if jobs.len() == 1 => {
                if let Some(job) = jobs.into_iter().next() {
                    answer(&store, vec![(job, Err(e))]);
                }
            }
            Err(e) => {
                tracing::warn!(
                    rotations = jobs.len(),
                    "refresh group rolled back ({e}); committing each alone"
                );
                for job in jobs {
                    let step = commit(&store, &[&job.rotation]).await.map(|mut s| s.remove(0));
                    answer(&store, vec![(job, step)]);
                }
            }
        }
    }
}

/// Runs `rotations` in one write transaction and commits it: one [`Step`] each, in order.
async fn commit(store: &Store, rotations: &[&Rotation]) -> Result<Vec<Step>, StoreError> {
    let mut tx = store.write_tx().await?;
    let locked = if rotations.len() > 1 {
        let hashes: Vec<&str> = rotations.iter().map(|r| r.presented.as_str()).collect();
        Some(sessions::lock_families(&mut tx, &hashes).await?)
    } else {
        None
    };
    let mut steps = Vec::with_capacity(rotations.len());
    for rotation in rotations {
        steps.push(refresh_tokens::rotate_in(&mut tx, rotation, locked.as_deref()).await?);
    }
    tx.commit().await?;
    Ok(steps)
}

/// Reads the users the answers carry (one query for the group, on the pool) and answers every job,
/// on a task of its own so that the committer goes on with the next group.
fn answer(store: &Store, answers: Vec<(Job, Result<Step, StoreError>)>) {
    let store = store.clone();
    tokio::spawn(async move {
        let mut ids: Vec<&str> = answers.iter().filter_map(|(_, s)| s.as_ref().ok()?.user_id()).collect();
        ids.sort_unstable();
        ids.dedup();
        let users = match store.users_by_ids(&ids).await {
            Ok(users) => Ok(users.into_iter().map(|u| (u.id.clone(), u)).collect::<HashMap<_, _>>()),
            Err(e) => Err(Arc::new(e)),
        };
        for (job, step) in answers {
            let outcome = step.and_then(|step| match (step.user_id(), &users) {
                (None, _) => Ok(step.with_user(None)),
                (Some(id), Ok(users)) => {
                    let user = users.get(id).cloned();
                    Ok(step.with_user(user))
                }
                (Some(_), Err(e)) => Err(StoreError::Shared(e.clone())),
            });
            // The requester may have gone (its client hung up): the rotation stands all the same.
            let _ = job.reply.send(outcome);
        }
    });
}

/// One rotation in a transaction of its own (a store without a committer).
pub(super) async fn run_one(store: &Store, rotation: Rotation) -> Result<RefreshOutcome, StoreError> {
    let step = commit(store, &[&rotation]).await?.remove(0);
    let user = match step.user_id() {
        Some(id) => store.user(id).await?,
        None => None,
    };
    Ok(step.with_user(user))
}
