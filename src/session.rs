//! The page's run rules, native and tested: when a run may start, continue or resume,
//! what an exported file says of its model, and which model and evaluation each view
//! uses. `web` holds one [`Session`] and only translates its answers for JS.

use crate::files::mnist::{self, Dataset};
use crate::files::weights;
use crate::form;
use crate::model::bug::Bug;
use crate::model::mlp::Mlp;
use crate::model::optim::Optimizer;
use crate::problem::{FieldError, Problem};
use crate::schema::Values;
use crate::train::evaluate::{Evaluation, Score};
use crate::train::{Diverged, EpochStats, MidEpoch, Progress, TrainConfig, Trainer};
use std::collections::BTreeMap;

/// One page's data, model and run.
#[derive(Debug, Default)]
pub struct Session {
    /// Parsed MNIST files (train, test) until all four are in.
    images: [Option<Vec<u8>>; 2],
    labels: [Option<Vec<u8>>; 2],
    train: Option<Dataset>,
    test: Option<Dataset>,
    trainer: Option<Trainer>,
    running: bool,
    request: Option<Request>,
    /// The model came from a file: its story so far, and its score once evaluated.
    imported: Option<ImportedModel>,
    /// The weights as they are now, scored when asked (a file made inside an epoch, a
    /// run restored finished); restarted whenever they move.
    now: Evaluation,
}

#[derive(Debug)]
struct ImportedModel {
    dtype: String,
    /// The file's `__metadata__`, carried into an export of the model as it came.
    metadata: BTreeMap<String, String>,
    /// Epochs it had trained before it came in, when its metadata says.
    epochs: usize,
    evaluation: Evaluation,
    score: Option<Score>,
}

/// What the page asked of a run between two of its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Pause,
    Stop,
}

/// What one turn of the training loop did.
#[derive(Debug, PartialEq)]
pub enum Advance {
    /// A step ran; the run goes on unless it is [`Progress::Finished`].
    Step(Progress),
    Paused,
    Stopped,
    /// The run cannot go on (diverged, or no data or model).
    Failed(FieldError),
}

/// Where the page's model came from, for its status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelState {
    None,
    Untrained,
    Trained,
    Imported,
}

/// A weights file as the page loaded it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    pub arch: String,
    pub hidden_dims: Vec<usize>,
    pub dtype: String,
    pub metadata: BTreeMap<String, String>,
}

/// What a reload needs to go on with a run exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The weights and optimiser state ([`weights::export_run`]).
    pub weights: Vec<u8>,
    pub history: Vec<EpochStats>,
    /// Where in an epoch it paused; `None` at an epoch end.
    pub within: Option<MidEpoch>,
}

/// A run resumed from its save.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resumed {
    pub batches: usize,
    pub finished: bool,
    pub elapsed_s: f64,
}

/// A refusal that quotes nothing (`tests/strings_complete.rs` reads its code).
fn refused(field: &'static str, code: &'static str) -> FieldError {
    let problem = Problem { code, args: Vec::new() };
    FieldError::new(field, problem)
}

impl Session {
    /// The busy guard: nothing that replaces the model or its run while one trains.
    fn idle(&self, field: &'static str) -> Result<(), FieldError> {
        match self.running {
            true => Err(refused(field, "train_busy")),
            false => Ok(()),
        }
    }

    fn train_size(&self, field: &'static str) -> Result<usize, FieldError> {
        self.train
            .as_ref()
            .map(Dataset::len)
            .ok_or_else(|| refused(field, "train_no_data"))
    }

    /// A run's settings from the training form, when a run may start now.
    fn run_settings(&self, values: &Values) -> Result<(TrainConfig, usize), FieldError> {
        self.idle("train")?;
        let train_size = self.train_size("train")?;
        Ok((form::train_config(values)?, train_size))
    }

    /// Parse one fetched MNIST file (gzip or raw): `train-images`, `train-labels`,
    /// `test-images` or `test-labels`; `name` is shown in errors.
    pub fn load_file(&mut self, kind: &str, name: &str, bytes: &[u8]) -> Result<(), FieldError> {
        let on = |problem| FieldError::new("data", problem);
        let (slot, parsed) = match kind {
            "train-images" => (&mut self.images[0], mnist::parse_images(name, bytes)),
            "test-images" => (&mut self.images[1], mnist::parse_images(name, bytes)),
            "train-labels" => (&mut self.labels[0], mnist::parse_labels(name, bytes)),
            "test-labels" => (&mut self.labels[1], mnist::parse_labels(name, bytes)),
            _ => return Err(on(Problem::new("data_unknown_kind", &[&kind]))),
        };
        *slot = Some(parsed.map_err(on)?);
        Ok(())
    }

    /// Pair the four loaded files (named as `names`: train images, labels, test images,
    /// labels) into the sets; their sizes.
    pub fn finish_loading(&mut self, names: &[String]) -> Result<(usize, usize), FieldError> {
        let ([ti, ei], [tl, el]) = (std::mem::take(&mut self.images), std::mem::take(&mut self.labels));
        let (Some(ti), Some(ei), Some(tl), Some(el)) = (ti, ei, tl, el) else {
            return Err(refused("data", "data_missing"));
        };
        let name = |i: usize| names.get(i).map_or("?", String::as_str);
        let on = |problem| FieldError::new("data", problem);
        let train = Dataset::new(name(0), ti, name(1), tl).map_err(on)?;
        let test = Dataset::new(name(2), ei, name(3), el).map_err(on)?;
        let sizes = (train.len(), test.len());
        (self.train, self.test) = (Some(train), Some(test));
        Ok(sizes)
    }

    /// A fresh model and run from the training form (a reset); its batches per epoch.
    pub fn configure(&mut self, values: &Values) -> Result<usize, FieldError> {
        let (config, train_size) = self.run_settings(values)?;
        self.replace_run(Trainer::new(config, train_size), true);
        Ok(self.batches())
    }

    fn replace_run(&mut self, trainer: Trainer, forget_import: bool) {
        self.request = None;
        self.now.restart();
        if forget_import {
            self.imported = None;
        }
        self.trainer = Some(trainer);
    }

    fn batches(&self) -> usize {
        self.trainer.as_ref().map_or(0, Trainer::batches_per_epoch)
    }

    /// The training loop begins; refused while one runs. A Pause or Stop asked for
    /// before it got going is honoured at its first turn.
    pub fn begin_run(&mut self) -> Result<(), FieldError> {
        self.idle("train")?;
        self.running = true;
        Ok(())
    }

    /// One turn of the loop: what the page asked for, else one step.
    pub fn advance(&mut self, elapsed_ms: f64) -> Advance {
        match self.request.take() {
            Some(Request::Pause) => return Advance::Paused,
            Some(Request::Stop) => {
                self.trainer.as_mut().map(Trainer::stop);
                return Advance::Stopped;
            }
            None => {}
        }
        let (Some(trainer), Some(train), Some(test)) = (&mut self.trainer, &self.train, &self.test) else {
            return Advance::Failed(refused("train", "train_no_data"));
        };
        self.now.restart();
        match trainer.step(train, test, elapsed_ms) {
            Ok(progress) => Advance::Step(progress),
            Err(diverged) => Advance::Failed(diverged_problem(&diverged, trainer.config.bug)),
        }
    }

    /// The loop has ended; a request that came as it ended on its own is dropped.
    pub fn end_run(&mut self) {
        self.running = false;
        self.request = None;
    }

    pub fn pause(&mut self) {
        self.request = Some(Request::Pause);
    }

    /// End the run after the current step; the model stays for drawing.
    pub fn stop(&mut self) {
        match self.running {
            true => self.request = Some(Request::Stop),
            false => drop(self.trainer.as_mut().map(Trainer::stop)),
        }
    }

    /// Forget the model (Reset).
    pub fn reset(&mut self) -> Result<(), FieldError> {
        self.idle("train")?;
        self.trainer = None;
        self.request = None;
        self.imported = None;
        self.now.restart();
        Ok(())
    }

    pub fn trainer(&self) -> Option<&Trainer> {
        self.trainer.as_ref()
    }

    pub fn train_set(&self) -> Option<&Dataset> {
        self.train.as_ref()
    }

    pub fn test_set(&self) -> Option<&Dataset> {
        self.test.as_ref()
    }

    /// The model every view uses: the one training (or trained, or loaded).
    pub fn model(&self) -> Option<&Mlp<f32>> {
        self.trainer.as_ref().map(|t| &t.mlp)
    }

    /// The model and the test set, for the views that need both.
    pub fn model_and_test(&self, field: &'static str, code: &'static str) -> Result<(&Mlp<f32>, &Dataset), FieldError> {
        match (self.model(), &self.test) {
            (Some(mlp), Some(test)) => Ok((mlp, test)),
            _ => Err(refused(field, code)),
        }
    }

    /// The `nth` test image (counting round) of the digit `label`, for a keyboard to put on
    /// the drawing pad: its index and its 784 pixels.
    pub fn test_image_of(&self, label: usize, nth: usize) -> Option<(usize, &[u8])> {
        let test = self.test.as_ref()?;
        let count = (0..test.len()).filter(|&i| test.label(i) == label).count();
        let index = (0..test.len())
            .filter(|&i| test.label(i) == label)
            .nth(nth % count.max(1))?;
        Some((index, test.image(index)))
    }

    /// Whether the model has learned nothing yet (freshly initialised, not loaded).
    pub fn model_is_untrained(&self) -> bool {
        self.trainer.as_ref().is_some_and(Trainer::is_untrained) && self.imported.is_none()
    }

    /// The evaluation the confusion matrix and its gallery show: the run's last, else the
    /// weights' own once [scored](Self::score_model), else a loaded model's once scored.
    pub fn evaluation(&self) -> Option<&Evaluation> {
        match (&self.trainer, &self.imported) {
            (Some(t), _) if t.evaluation().is_some() => t.evaluation(),
            _ if self.now.is_complete() => Some(&self.now),
            (_, Some(i)) if i.score.is_some() => Some(&i.evaluation),
            _ => None,
        }
    }

    /// The score the page reports for its model: the last epoch's, else a loaded model's.
    pub fn score(&self) -> Option<Score> {
        let last = self.trainer.as_ref().and_then(|t| t.history.last());
        let imported = self.imported.as_ref().and_then(|i| i.score);
        last.map(|e| Score {
            accuracy: e.test_accuracy,
            loss: e.test_loss,
        })
        .or(imported)
    }

    pub fn model_state(&self) -> ModelState {
        match (&self.trainer, &self.imported) {
            (None, _) => ModelState::None,
            (Some(_), Some(_)) => ModelState::Imported,
            (Some(t), None) if t.is_untrained() => ModelState::Untrained,
            (Some(_), None) => ModelState::Trained,
        }
    }

    /// The loaded file's dtype, for a loaded model.
    pub fn imported_dtype(&self) -> Option<&str> {
        self.imported.as_ref().map(|i| i.dtype.as_str())
    }

    /// Load a weights file as the page's model; a refused file changes nothing.
    pub fn import_weights(&mut self, bytes: &[u8]) -> Result<ImportSummary, FieldError> {
        self.idle("weights")?;
        let train_size = self.train_size("weights")?;
        let imported = weights::import(bytes).map_err(|p| FieldError::new("weights", p))?;
        let summary = ImportSummary {
            arch: weights::arch(&imported.mlp),
            hidden_dims: imported.hidden_dims.clone(),
            dtype: imported.dtype.clone(),
            metadata: imported.metadata.clone(),
        };
        let epochs = imported.metadata.get("epochs").and_then(|e| e.parse().ok());
        self.replace_run(
            Trainer::with_model(TrainConfig::assignment(), imported.mlp, train_size),
            false,
        );
        self.imported = Some(ImportedModel {
            dtype: imported.dtype,
            metadata: imported.metadata,
            epochs: epochs.unwrap_or(0),
            evaluation: Evaluation::default(),
            score: None,
        });
        Ok(summary)
    }

    /// Score the loaded model on the next chunk of the test set: images done, of how
    /// many, and the score once all are.
    pub fn score_imported(&mut self) -> Result<(usize, usize, Option<Score>), FieldError> {
        let (Some(trainer), Some(test), Some(imported)) = (&self.trainer, &self.test, &mut self.imported) else {
            return Err(refused("weights", "weights_none"));
        };
        let done = imported.evaluation.step(&trainer.mlp, test);
        if done == test.len() {
            imported.score = Some(imported.evaluation.score());
        }
        Ok((done, test.len(), imported.score.filter(|_| done == test.len())))
    }

    /// Score the page's weights as they are now on the next chunk of the test set: images
    /// done, of how many, and the score once all are. For weights no row describes (a
    /// file made inside an epoch) and a run restored without its evaluation.
    pub fn score_model(&mut self) -> Result<(usize, usize, Option<Score>), FieldError> {
        self.idle("weights")?;
        let (Some(trainer), Some(test)) = (&self.trainer, &self.test) else {
            return Err(refused("weights", "weights_none"));
        };
        if !self.now.is_complete() {
            self.now.step(&trainer.mlp, test);
        }
        let score = self.now.is_complete().then(|| self.now.score());
        Ok((self.now.score_count(), test.len(), score))
    }

    /// The weights' own evaluation, once [scored](Self::score_model).
    pub fn weights_evaluation(&self) -> Option<&Evaluation> {
        self.now.is_complete().then_some(&self.now)
    }

    /// Whether an export must [score](Self::score_model) the weights first to give their
    /// own accuracy: they are from inside an epoch, and not scored yet.
    pub fn needs_score(&self) -> bool {
        let inside = self.trainer.as_ref().is_some_and(|t| t.batches_into_epoch() > 0);
        inside && !self.now.is_complete()
    }

    /// The score of the weights as they are now: their own once scored, else the last
    /// row's at an epoch end (or a loaded model's); `None` for weights from inside an
    /// epoch not scored.
    fn weights_score(&self) -> Option<Score> {
        let trainer = self.trainer.as_ref()?;
        match (self.now.is_complete(), trainer.batches_into_epoch()) {
            (true, _) => Some(self.now.score()),
            (false, 0) => self.score(),
            (false, _) => None,
        }
    }

    /// Train on from the page's model with the form's settings (no bug); the form must
    /// describe the model. The same optimiser goes on with its state, at the new
    /// learning rate, as the notebook's optimizer object would; another starts afresh.
    pub fn continue_training(&mut self, values: &Values) -> Result<usize, FieldError> {
        self.idle("train")?;
        let (Ok(train_size), Some(current)) = (self.train_size("train"), self.trainer.as_ref()) else {
            return Err(refused("train", "weights_none"));
        };
        if self.imported.as_ref().is_some_and(|i| i.score.is_none()) {
            return Err(refused("train", "wt_scoring"));
        }
        let mut values = values.clone();
        values.insert("bug", String::new());
        let config = form::train_config(&values)?;
        fits_model(&config, &current.mlp, &values)?;
        fits_stopped_epoch(&config, current)?;
        let same_optimizer =
            (config.optimizer, config.weight_decay) == (current.optimizer.kind, current.optimizer.weight_decay);
        let optimizer = Optimizer {
            learning_rate: config.learning_rate,
            ..current.optimizer.clone()
        };
        let mut trainer = Trainer::with_model(config, current.mlp.clone(), train_size)
            .after(current.history.clone())
            .within_stopped_epoch(current);
        if same_optimizer {
            trainer.optimizer = optimizer;
        }
        self.replace_run(trainer, false);
        Ok(self.batches())
    }

    /// What a reload needs to go on with this run exactly. Paused inside an epoch, the
    /// run as it is; else as the last epoch ended, also while the next one trains.
    /// `None` when there is nothing to go on from.
    pub fn snapshot(&self) -> Option<Snapshot> {
        let trainer = self.trainer.as_ref()?;
        let (mlp, optimizer, within) = match (trainer.mid_epoch().filter(|_| !self.running), &trainer.epoch_end) {
            (Some(at), _) => (&trainer.mlp, &trainer.optimizer, Some(at)),
            (None, Some((mlp, optimizer))) => (mlp, optimizer, None),
            (None, None) => return None,
        };
        let weights = weights::export_run(mlp, optimizer, &BTreeMap::new()).ok()?;
        let history = trainer.history.clone();
        Some(Snapshot {
            weights,
            history,
            within,
        })
    }

    /// Go on with a saved run (see [`snapshot`](Self::snapshot)) from where it was saved,
    /// exactly as if it had never stopped: its weights, its epochs as rows of
    /// [`EpochStats::ROW`] numbers, and where in an epoch it paused (empty at an epoch
    /// end). Refused, with nothing changed, when the save does not fit the form's settings.
    pub fn resume(
        &mut self,
        values: &Values,
        weights: &[u8],
        rows: &[f64],
        within: &[f64],
    ) -> Result<Resumed, FieldError> {
        let (config, train_size) = self.run_settings(values)?;
        let mismatch = || refused("train", "resume_mismatch");
        let within = match within.is_empty() {
            true => None,
            false => Some(MidEpoch::from_numbers(within).ok_or_else(mismatch)?),
        };
        let history: Vec<EpochStats> = rows.chunks_exact(EpochStats::ROW).map(EpochStats::from_row).collect();
        let saved = Snapshot {
            weights: weights.to_vec(),
            history,
            within,
        };
        let (imported, optimizer) =
            weights::import_run(&saved.weights, config.new_optimizer()).map_err(|p| FieldError::new("train", p))?;
        if imported.hidden_dims != config.hidden_dims || imported.mlp.activation != config.activation {
            return Err(mismatch());
        }
        let epochs = saved.history.len();
        // At an epoch end: at least one epoch, and at most all (a finished run, restored).
        let fits = match saved.within {
            None => (1..=config.epochs).contains(&epochs),
            Some(_) => epochs < config.epochs,
        };
        if !fits {
            return Err(mismatch());
        }
        let trainer = Trainer::resume(config, imported.mlp, optimizer, saved.history.clone(), train_size);
        let trainer = match saved.within {
            None => trainer,
            Some(at) => trainer.within_epoch(at).ok_or_else(mismatch)?,
        };
        let resumed = Resumed {
            batches: trainer.batches_per_epoch(),
            finished: trainer.is_finished(),
            elapsed_s: trainer.live().elapsed_s,
        };
        self.replace_run(trainer, true);
        Ok(resumed)
    }

    /// The page's model as a weights file for the notebook, and its file name.
    pub fn export_weights(&self) -> Result<(Vec<u8>, String), FieldError> {
        let trainer = self
            .trainer
            .as_ref()
            .ok_or_else(|| refused("weights", "weights_none"))?;
        let bytes =
            weights::export(&trainer.mlp, &self.export_metadata()).map_err(|p| FieldError::new("weights", p))?;
        Ok((bytes, self.export_file_name().unwrap_or_default()))
    }

    /// The name [`export_weights`](Self::export_weights) gives the page's model now.
    pub fn export_file_name(&self) -> Option<String> {
        let trainer = self.trainer.as_ref()?;
        let (epochs, inside) = (self.epochs_trained(), trainer.batches_into_epoch());
        Some(weights::file_name(&trainer.mlp, epochs, inside))
    }

    /// Epochs the model has trained: before it was loaded, and here.
    fn epochs_trained(&self) -> usize {
        let here = self.trainer.as_ref().map_or(0, |t| t.history.len());
        self.imported.as_ref().map_or(0, |i| i.epochs) + here
    }

    /// The export's metadata: a model loaded and not trained here keeps its file's story;
    /// else this run's settings (the optimiser's own only, and the bug if any). Both say
    /// what the model is, how many epochs it trained (and where inside the next one the
    /// weights are from), and the weights' own score, or that they are not scored.
    pub fn export_metadata(&self) -> BTreeMap<String, String> {
        let Some(trainer) = &self.trainer else {
            return BTreeMap::new();
        };
        let untouched = trainer.history.is_empty();
        let mut metadata = match &self.imported {
            Some(imported) if untouched => imported.metadata.clone(),
            _ => run_metadata(trainer),
        };
        let hidden: Vec<String> = trainer.mlp.layers.iter().map(|l| l.outputs().to_string()).collect();
        for (key, value) in [
            ("format", "pt".to_string()),
            ("hidden_dims", hidden.join(",")),
            ("input", "pixels / 255, in [0, 1], no normalisation".to_string()),
            ("epochs", self.epochs_trained().to_string()),
            ("project", env!("CARGO_PKG_NAME").to_string()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
        ] {
            metadata.insert(key.into(), value);
        }
        let inside = trainer.batches_into_epoch();
        if inside > 0 {
            let (epoch, batches) = (self.epochs_trained() + 1, trainer.batches_per_epoch());
            let at = format!("epoch {epoch}, batch {inside} of {batches}");
            metadata.insert("within_epoch".into(), at);
        }
        match self.weights_score() {
            Some(score) => {
                metadata.insert("test_accuracy".into(), format!("{:.2}", score.accuracy));
                metadata.insert("test_loss".into(), format!("{:.6}", score.loss));
            }
            None if inside > 0 => {
                let why = "weights from inside an epoch, not scored on the test set";
                metadata.insert("not_scored".into(), why.into());
            }
            None => {}
        }
        metadata
    }
}

/// This run's settings, as an export names them.
fn run_metadata(trainer: &Trainer) -> BTreeMap<String, String> {
    let c = &trainer.config;
    let mut metadata = BTreeMap::from([
        ("optimizer_steps".to_string(), trainer.optimizer.steps.to_string()),
        ("weight_decay".to_string(), c.weight_decay.to_string()),
        ("lr".to_string(), c.learning_rate.to_string()),
        ("batch".to_string(), c.batch_size.to_string()),
        ("seed".to_string(), c.seed.to_string()),
        (
            "train_limit".to_string(),
            c.train_limit.map_or("all".to_string(), |n| n.to_string()),
        ),
    ]);
    for (name, value) in c
        .optimizer
        .fields()
        .into_iter()
        .filter(|(name, _)| c.optimizer.reads(name))
    {
        metadata.insert(if name == "opt" { "optimizer" } else { name }.to_string(), value);
    }
    if c.bug != Bug::None {
        metadata.insert("bug".into(), c.bug.code().into());
    }
    metadata
}

/// Settings for *Continue training* must describe the model: its hidden widths and its
/// activation.
fn fits_model(config: &TrainConfig, mlp: &Mlp<f32>, values: &Values) -> Result<(), FieldError> {
    let model_dims: Vec<usize> = mlp.layers.iter().map(|l| l.outputs()).collect();
    if config.hidden_dims != model_dims {
        let model: Vec<String> = model_dims.iter().map(usize::to_string).collect();
        let typed = values.get("hidden").map_or("", String::as_str);
        let problem = Problem::new("hidden_contradicts_model", &[&typed, &model.join(",")]);
        return Err(FieldError::new("hidden", problem));
    }
    if config.activation != mlp.activation {
        let names = [config.activation.name(), mlp.activation.name()];
        return Err(FieldError::new(
            "act",
            Problem::new("act_contradicts_model", &[&names[0], &names[1]]),
        ));
    }
    Ok(())
}

/// A run stopped inside an epoch goes on inside it (every row one real epoch): the
/// form must keep that epoch's batches, its batch size and the images it uses.
fn fits_stopped_epoch(config: &TrainConfig, stopped: &Trainer) -> Result<(), FieldError> {
    let Some(at) = stopped.stopped_within() else {
        return Ok(());
    };
    let was = &stopped.config;
    let (field, value) = if config.batch_size != was.batch_size {
        ("batch", was.batch_size.to_string())
    } else if config.train_limit != was.train_limit {
        ("train_limit", was.train_limit.map_or(String::new(), |n| n.to_string()))
    } else {
        return Ok(());
    };
    // An empty train_limit means every image: its message says "clear the field".
    let code = if value.is_empty() {
        "continue_inside_epoch_all"
    } else {
        "continue_inside_epoch"
    };
    let epoch = stopped.history.len() + 1;
    let batches = stopped.batches_per_epoch();
    let args: [&dyn std::fmt::Display; 4] = [&epoch, &at.batches_done, &batches, &value];
    Err(FieldError::new(field, Problem::new(code, &args)))
}

/// A divergence under a bug blames the bug: the broken backward, not the learning rate,
/// is the likelier cause.
fn diverged_problem(d: &Diverged, bug: Bug) -> FieldError {
    let loss = d.loss.to_string();
    let problem = match bug {
        Bug::None => Problem::new("train_diverged", &[&d.epoch, &d.batch, &loss]),
        bug => Problem::new("train_diverged_bug", &[&d.epoch, &d.batch, &loss, &bug.code()]),
    };
    FieldError::new("train", problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FormKind, Schema};
    use crate::test_support::synthetic;

    /// A session with small synthetic data in place of MNIST.
    fn loaded() -> Session {
        Session {
            train: Some(synthetic(200, 1)),
            test: Some(synthetic(100, 2)),
            ..Session::default()
        }
    }

    /// The training form's defaults, a small net, and `typed` over them.
    fn form(typed: &[(&'static str, &str)]) -> Values {
        let mut values = Schema::page().defaults(FormKind::Train);
        values.extend(
            [("hidden", "8"), ("batch", "50"), ("epochs", "2"), ("lr", "0.5")].map(|(k, v)| (k, v.to_string())),
        );
        values.extend(typed.iter().map(|&(k, v)| (k, v.to_string())));
        values
    }

    /// Run until the loop says what it does next: a step's progress of `kind`, or an end.
    fn advance_until(session: &mut Session, done: impl Fn(&Advance) -> bool) -> Advance {
        session.begin_run().expect("idle");
        loop {
            let advance = session.advance(1.0);
            let finished = matches!(advance, Advance::Step(Progress::Finished));
            if done(&advance) || finished || !matches!(advance, Advance::Step(_)) {
                session.end_run();
                return advance;
            }
        }
    }

    fn epoch_done(a: &Advance) -> bool {
        matches!(a, Advance::Step(Progress::EpochDone(_)))
    }

    fn code(result: Result<impl std::fmt::Debug, FieldError>) -> (&'static str, &'static str) {
        let error = result.expect_err("refused");
        (error.field, error.problem.code)
    }

    #[test]
    fn nothing_replaces_the_run_while_it_trains() {
        let mut session = loaded();
        session.configure(&form(&[])).expect("configured");
        session.begin_run().expect("idle");
        assert_eq!(code(session.configure(&form(&[]))), ("train", "train_busy"));
        assert_eq!(code(session.reset()), ("train", "train_busy"));
        assert_eq!(code(session.import_weights(&[])), ("weights", "train_busy"));
        assert_eq!(code(session.continue_training(&form(&[]))), ("train", "train_busy"));
        assert_eq!(code(session.begin_run()), ("train", "train_busy"));
        session.end_run();
        assert!(session.configure(&form(&[])).is_ok());
    }

    #[test]
    fn a_run_needs_data_and_valid_settings() {
        assert_eq!(
            code(Session::default().configure(&form(&[]))),
            ("train", "train_no_data")
        );
        assert_eq!(code(loaded().configure(&form(&[("lr", "0")]))), ("lr", "not_positive"));
        assert_eq!(loaded().configure(&form(&[])), Ok(4), "200 images in batches of 50");
    }

    #[test]
    fn pause_and_stop_are_honoured_between_steps() {
        let mut session = loaded();
        session.configure(&form(&[])).expect("configured");
        session.pause();
        assert_eq!(advance_until(&mut session, |_| true), Advance::Paused);
        session.stop();
        session.begin_run().expect("idle");
        assert!(
            matches!(session.advance(1.0), Advance::Step(_)),
            "stopped while idle: nothing pending"
        );
        session.stop();
        assert_eq!(session.advance(1.0), Advance::Stopped);
        session.end_run();
        assert!(session.trainer().is_some_and(Trainer::is_finished), "the model stays");
    }

    #[test]
    fn a_divergence_blames_the_bug_when_there_is_one() {
        for (bug, expected) in [("", "train_diverged"), ("grad_output_sign", "train_diverged_bug")] {
            let mut session = loaded();
            session
                .configure(&form(&[("lr", "100"), ("bug", bug), ("epochs", "20")]))
                .expect("configured");
            let Advance::Failed(error) = advance_until(&mut session, |_| false) else {
                panic!("{bug:?}: lr 100 diverges");
            };
            assert_eq!(error.problem.code, expected);
        }
    }

    #[test]
    fn continue_training_needs_settings_that_describe_the_model() {
        let mut session = loaded();
        session.configure(&form(&[("opt", "momentum")])).expect("configured");
        advance_until(&mut session, epoch_done);
        assert_eq!(
            code(session.continue_training(&form(&[("hidden", "9")]))),
            ("hidden", "hidden_contradicts_model")
        );
        assert_eq!(
            code(session.continue_training(&form(&[("act", "relu")]))),
            ("act", "act_contradicts_model")
        );
        let velocity = session.trainer().map(|t| t.optimizer.clone()).expect("a model");
        assert!(velocity.steps > 0);
        session
            .continue_training(&form(&[("opt", "momentum"), ("lr", "0.1")]))
            .expect("continued");
        let kept = &session.trainer().expect("a model").optimizer;
        assert_eq!(
            (kept.steps, kept.learning_rate),
            (velocity.steps, 0.1),
            "the same optimiser goes on"
        );
        assert_eq!(
            session.trainer().map(|t| t.history.len()),
            Some(1),
            "with the run's epochs"
        );
        session.continue_training(&form(&[("opt", "adam")])).expect("continued");
        assert_eq!(
            session.trainer().map(|t| t.optimizer.steps),
            Some(0),
            "another starts afresh"
        );
    }

    #[test]
    fn stopped_inside_an_epoch_continue_finishes_that_epoch_as_if_never_stopped() {
        let mut whole = loaded();
        whole.configure(&form(&[])).expect("configured");
        advance_until(&mut whole, |_| false);
        let mut session = loaded();
        session.configure(&form(&[])).expect("configured");
        advance_until(&mut session, epoch_done);
        session.begin_run().expect("idle");
        for _ in 0..2 {
            session.advance(1.0);
        }
        session.stop();
        assert_eq!(session.advance(1.0), Advance::Stopped);
        session.end_run();
        assert_eq!(
            code(session.continue_training(&form(&[("epochs", "1"), ("batch", "40")]))),
            ("batch", "continue_inside_epoch"),
            "the epoch's batches stay as they were"
        );
        assert_eq!(
            code(session.continue_training(&form(&[("epochs", "1"), ("train_limit", "100")]))),
            ("train_limit", "continue_inside_epoch_all"),
            "and so do its images: every one, so the field is to be cleared"
        );
        session.continue_training(&form(&[("epochs", "1")])).expect("continued");
        advance_until(&mut session, |_| false);
        let rows = |s: &Session| -> Vec<(usize, f64, f64, f64)> {
            let history = &s.trainer().expect("a run").history;
            history
                .iter()
                .map(|e| (e.epoch, e.avg_loss, e.test_accuracy, e.test_loss))
                .collect()
        };
        assert_eq!(rows(&session), rows(&whole), "row 2 is one real epoch 2");
        assert_eq!(session.model(), whole.model(), "the same weights, to the bit");
    }

    #[test]
    fn a_file_made_inside_an_epoch_names_its_batch_and_its_own_score() {
        let mut session = loaded();
        session.configure(&form(&[])).expect("configured");
        advance_until(&mut session, epoch_done);
        session.begin_run().expect("idle");
        for _ in 0..2 {
            session.advance(1.0);
        }
        session.pause();
        assert_eq!(session.advance(1.0), Advance::Paused);
        session.end_run();
        let unscored = session.export_metadata();
        assert!(
            !unscored.contains_key("test_accuracy"),
            "not the last epoch's score: {unscored:?}"
        );
        assert_eq!(unscored["within_epoch"], "epoch 2, batch 2 of 4");
        assert!(unscored.contains_key("not_scored"));
        assert_eq!(
            session.export_weights().expect("a file").1,
            "mlp-784-8-10-epoch2-batch2.safetensors"
        );
        assert!(session.needs_score());
        let score = loop {
            if let (_, _, Some(score)) = session.score_model().expect("scoring") {
                break score;
            }
        };
        assert!(!session.needs_score());
        let mut own = Evaluation::default();
        while own.step(session.model().expect("a model"), session.test_set().expect("data")) < 100 {}
        assert_eq!(score, own.score(), "the weights' own score");
        let metadata = session.export_metadata();
        assert_eq!(metadata["test_accuracy"], format!("{:.2}", score.accuracy));
        assert_eq!(metadata["test_loss"], format!("{:.6}", score.loss));
        assert!(!metadata.contains_key("not_scored"));
        session.begin_run().expect("idle");
        session.advance(1.0);
        session.end_run();
        assert!(session.needs_score(), "the weights moved: the score is forgotten");
        assert!(!session.export_metadata().contains_key("test_accuracy"));
    }

    #[test]
    fn a_finished_run_restored_is_scored_again_for_its_confusion_matrix() {
        let mut session = loaded();
        session.configure(&form(&[("epochs", "1")])).expect("configured");
        advance_until(&mut session, |_| false);
        let saved = session.snapshot().expect("a finished run");
        let rows: Vec<f64> = saved.history.iter().flat_map(EpochStats::to_row).collect();
        let mut restored = loaded();
        let resumed = restored.resume(&form(&[("epochs", "1")]), &saved.weights, &rows, &[]);
        assert!(resumed.expect("restored").finished);
        assert!(restored.evaluation().is_none(), "the save holds no matrix");
        while restored.score_model().expect("scoring").2.is_none() {}
        let evaluation = restored.evaluation().expect("scored again");
        let total: u32 = evaluation.confusion().iter().flatten().sum();
        assert_eq!(total, 100, "every test image");
        assert_eq!(
            Some(evaluation.score().accuracy),
            restored.score().map(|s| s.accuracy),
            "as its row says"
        );
    }

    #[test]
    fn a_continued_run_counts_the_whole_runs_training_time() {
        let mut session = loaded();
        session.configure(&form(&[("epochs", "1")])).expect("configured");
        advance_until(&mut session, |_| false);
        let first = session.trainer().map(|t| t.live().elapsed_s).expect("a run");
        assert!(first > 0.0);
        session.continue_training(&form(&[("epochs", "2")])).expect("continued");
        advance_until(&mut session, |_| false);
        let trainer = session.trainer().expect("a run");
        let seconds: f64 = trainer.history.iter().map(|e| e.seconds).sum();
        assert_eq!(trainer.history.len(), 3);
        assert!(
            (trainer.live().elapsed_s - seconds).abs() < 1e-9,
            "{} s counted, {seconds} s in the rows",
            trainer.live().elapsed_s
        );
    }

    #[test]
    fn a_loaded_model_is_scored_before_it_trains_and_keeps_its_files_story() {
        let mut trained = loaded();
        trained.configure(&form(&[])).expect("configured");
        advance_until(&mut trained, epoch_done);
        let mut metadata = BTreeMap::from([("epochs".to_string(), "7".to_string()), ("note".into(), "mine".into())]);
        let bytes = weights::export(trained.model().expect("a model"), &metadata).expect("exported");
        let mut session = loaded();
        let summary = session.import_weights(&bytes).expect("loaded");
        assert_eq!(
            (summary.arch.as_str(), summary.hidden_dims.as_slice()),
            ("784-8-10", &[8][..])
        );
        assert_eq!(session.model_state(), ModelState::Imported);
        assert_eq!(code(session.continue_training(&form(&[]))), ("train", "wt_scoring"));
        assert!(session.evaluation().is_none(), "no evaluation until scored");
        while session.score_imported().expect("scoring").2.is_none() {}
        assert_eq!(session.evaluation().map(|e| e.score()), session.score());
        let exported = session.export_metadata();
        assert_eq!(exported["note"], "mine", "untouched: the file's story");
        assert_eq!(exported["epochs"], "7");
        metadata.insert("epochs".into(), "8".into());
        session.continue_training(&form(&[("epochs", "1")])).expect("continued");
        advance_until(&mut session, |_| false);
        let exported = session.export_metadata();
        assert!(!exported.contains_key("note"), "trained here: this run's story");
        assert_eq!((exported["epochs"].as_str(), exported["lr"].as_str()), ("8", "0.5"));
        assert_eq!(
            session.export_weights().expect("a file").1,
            "mlp-784-8-10-epoch8.safetensors"
        );
    }

    #[test]
    fn the_exports_metadata_names_the_optimisers_own_settings_the_bug_and_the_score() {
        let mut session = loaded();
        assert!(session.export_metadata().is_empty());
        assert_eq!(code(session.export_weights()), ("weights", "weights_none"));
        session
            .configure(&form(&[("opt", "adam"), ("bug", "bias_mean")]))
            .expect("configured");
        advance_until(&mut session, epoch_done);
        let metadata = session.export_metadata();
        assert_eq!(metadata["optimizer"], "adam");
        assert!(metadata.contains_key("beta1") && !metadata.contains_key("momentum"));
        assert_eq!(metadata["bug"], "bias_mean");
        let accuracy = session
            .trainer()
            .and_then(|t| t.history.last())
            .map(|e| e.test_accuracy);
        assert_eq!(metadata["test_accuracy"], format!("{:.2}", accuracy.expect("an epoch")));
        assert_eq!(metadata["train_limit"], "all");
    }

    #[test]
    fn a_save_resumes_only_where_it_fits() {
        let mut session = loaded();
        session.configure(&form(&[])).expect("configured");
        assert_eq!(session.snapshot(), None, "nothing to go on from yet");
        advance_until(&mut session, epoch_done);
        let saved = session.snapshot().expect("an epoch end");
        assert_eq!((saved.history.len(), saved.within), (1, None));
        let rows: Vec<f64> = saved.history.iter().flat_map(EpochStats::to_row).collect();
        let resume =
            |values: &Values, rows: &[f64], within: &[f64]| loaded().resume(values, &saved.weights, rows, within);
        assert!(resume(&form(&[]), &rows, &[]).is_ok());
        assert_eq!(
            code(resume(&form(&[("hidden", "9")]), &rows, &[])),
            ("train", "resume_mismatch")
        );
        assert_eq!(
            code(resume(&form(&[("act", "tanh")]), &rows, &[])),
            ("train", "resume_mismatch")
        );
        assert_eq!(
            code(resume(&form(&[]), &[], &[])),
            ("train", "resume_mismatch"),
            "no epoch to end at"
        );
        assert_eq!(
            code(resume(&form(&[("epochs", "1")]), &rows, &[1.0])),
            ("train", "resume_mismatch")
        );
        let finished = resume(&form(&[("epochs", "1")]), &rows, &[]).expect("a finished run, restored");
        assert!(finished.finished);
        session.begin_run().expect("idle");
        session.advance(1.0);
        session.pause();
        session.advance(1.0);
        session.end_run();
        let paused = session.snapshot().expect("paused mid-epoch");
        let within = paused.within.expect("inside an epoch").to_numbers();
        let resumed = loaded()
            .resume(&form(&[]), &paused.weights, &rows, &within)
            .expect("resumed mid-epoch");
        assert!(!resumed.finished);
        let past_the_end = loaded().resume(&form(&[("epochs", "1")]), &paused.weights, &rows, &within);
        assert_eq!(
            code(past_the_end),
            ("train", "resume_mismatch"),
            "inside an epoch after the last"
        );
    }

    #[test]
    fn the_views_use_the_runs_model_and_its_last_evaluation() {
        let mut session = loaded();
        assert_eq!(session.model_state(), ModelState::None);
        assert_eq!(
            code(session.model_and_test("step", "step_no_model")),
            ("step", "step_no_model")
        );
        session.configure(&form(&[])).expect("configured");
        assert_eq!(session.model_state(), ModelState::Untrained);
        assert!(session.model_is_untrained() && session.evaluation().is_none() && session.score().is_none());
        advance_until(&mut session, epoch_done);
        assert_eq!(session.model_state(), ModelState::Trained);
        let evaluation = session.evaluation().expect("the epoch's");
        assert_eq!(Some(evaluation.score().accuracy), session.score().map(|s| s.accuracy));
        session.reset().expect("idle");
        assert_eq!(session.model_state(), ModelState::None);
    }

    #[test]
    fn a_digit_key_finds_test_images_of_that_digit_in_turn() {
        let session = loaded();
        let (first, pixels) = session.test_image_of(3, 0).expect("a 3");
        assert_eq!(
            (session.test_set().map(|t| t.label(first)), pixels.len()),
            (Some(3), 784)
        );
        let second = session.test_image_of(3, 1).expect("another 3").0;
        assert!(second > first);
        let threes = (0..100)
            .filter(|&i| session.test_set().is_some_and(|t| t.label(i) == 3))
            .count();
        assert_eq!(
            session.test_image_of(3, threes).map(|(i, _)| i),
            Some(first),
            "round again"
        );
        assert!(session.test_image_of(10, 0).is_none());
        assert!(Session::default().test_image_of(3, 0).is_none());
    }

    #[test]
    fn the_four_files_pair_into_the_sets() {
        let mut session = Session::default();
        assert_eq!(
            code(session.load_file("weights", "x", &[])),
            ("data", "data_unknown_kind")
        );
        assert_eq!(code(session.finish_loading(&[])), ("data", "data_missing"));
        assert_eq!(code(session.load_file("train-images", "x", &[1, 2, 3])).0, "data");
    }
}
