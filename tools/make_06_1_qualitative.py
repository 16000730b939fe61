"""Writes notebooks/06_1_qualitative.ipynb (Section 6.1) with nbformat; run from the repository root."""
import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
md(r"""# What the network learned (Section 6.1)

> "Figure 3 shows the convolutional kernels learned by the network's two data-connected layers. The network has
> learned a variety of frequency- and orientation-selective kernels, as well as various colored blobs. Notice the
> specialization exhibited by the two GPUs [...]. The kernels on GPU 1 are largely color-agnostic, while the kernels
> on GPU 2 are largely color-specific." (Section 6.1)

Section 6.1 of the paper is qualitative: three pictures of a trained network. This chapter draws all three and
puts a number on each, so that the claim can be checked rather than eyeballed:

* **Figure 3**: the 96 kernels of conv1, split by tower, with a *colour-specificity* statistic per tower;
* **Figure 4, left**: held-out images with the five most probable labels;
* **Figure 4, right**: the six training images nearest to a held-out image in the network's last hidden layer (the
  4096-d output of fc7), beside the six nearest in pixel space, and how often each set shares the image's class.

The logic lives in `alexnet/qualitative.py`, the figures in `alexnet/viz.py`."""),
code('''# Parameters (papermill); None takes the profile's value.
# profile: "ci" (two CPU cores, a minute of training, NOT the paper's scale)
#      or "full" (a model trained on ImageNet: checkpoint="runs/imagenet/best.pt").
profile = "ci"
data = None  # data root; None: $ALEXNET_DATA, else generated images (said below)
checkpoint = None  # a trained model (alexnet.checkpoint); None under ci: train one here
train_seconds = None  # ci: wall-clock cap on training
epochs = None
predictions = None  # images in Figure 4 (left)
neighbour_queries = None  # query rows in Figure 4 (right)
neighbours = None  # nearest training images per query (the paper: 6)
seed = None''', metadata={"tags": ["parameters"]}),
code('''import matplotlib.pyplot as plt
import pandas as pd
import torch
from myst_nb import glue

from alexnet import qualitative as Q
from alexnet import viz
from alexnet.profiles import resolve

settings = resolve(Q.PROFILES, profile, Q.CHECKS, data=data, checkpoint=checkpoint,
                   train_seconds=train_seconds, epochs=epochs, predictions=predictions,
                   neighbour_queries=neighbour_queries, neighbours=neighbours, seed=seed)
torch.set_num_threads(min(2, torch.get_num_threads()))
run = Q.prepare(settings)
if run.synthetic:
    data_note = "generated images (no data set was found; set ALEXNET_DATA to use real ones)"
else:
    data_note = f"the images in {run.data_description}"
print("model:", run.model_description)
print("data:", data_note)
print(f"{run.val_images.shape[0]} held-out images, {len(run.class_names)} classes, "
      f"{run.gallery_images.shape[0]} training images searched for neighbours")'''),
md(r"""## The model on this page

The paper's pictures come from its ImageNet network after 90 epochs on two GPUs. Under the `ci` profile this page
cannot do that: it trains a two-tower AlexNet here, on two CPU cores, for about a minute, on CIFAR-10 images upscaled
to 80 pixels (67-pixel crops) when the data set is available and on generated images otherwise. The network keeps
what this chapter looks at: the paper's 96 conv1 kernels of 11x11x3 in two towers of 48, and a last hidden layer
(fc7) whose output is the feature vector of Figure 4; conv2 to conv5 and the fully connected layers are narrowed,
and adaptive pooling lets them sit on the small input. It trains with the paper's update rule (`PaperSGD`, momentum
0.9, weight decay 0.0005) but **not from the paper's initialisation**: from N(0, 0.01) weights (or PyTorch's default)
the loss stays at ln 10 for the first few hundred steps, all a minute allows, so the weights start from He et al.'s
N(0, 2/fan-in) and the inputs are scaled to unit variance. **This is not the paper's scale**: the figures show what
such a small, short run learns. The `full` profile draws the same figures from a checkpoint trained on ImageNet.

The model here: {glue:text}`model_description`."""),
code('''glue("model_description", run.model_description, display=False)
glue("data_note", data_note, display=False)
if run.history:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    viz.training_curves(run.history, ["train_loss"], x="step", ax=axes[0], title="training loss",
                        ylabel="cross-entropy")
    names = {"train_error": "train top-1", "val_top1_error": "held-out top-1",
             "val_top5_error": "held-out top-5"}
    viz.training_curves(run.history, list(names), x="step", ax=axes[1], title="error",
                        ylabel="error rate", labels=names)
    fig.tight_layout()
    plt.show()
# one pass over the held-out images: their logits and their fc7 outputs
val_logits, val_features = Q.outputs(run.model, run.val_images)
all_preds = Q.predictions(val_logits, k=5)
top1_ok, top5_ok = all_preds.correct(run.val_labels)
top1_error = 1 - top1_ok.double().mean().item()
top5_error = 1 - top5_ok.double().mean().item()
chance_top1 = 1 - 1 / len(run.class_names)
glue("top1_error", 100 * top1_error, display=False)
glue("top5_error", 100 * top5_error, display=False)
glue("chance_top1", 100 * chance_top1, display=False)
glue("n_val", run.val_images.shape[0], display=False)'''),
md(r"""On the {glue:text}`n_val` held-out images the model's top-1 error is {glue:text}`top1_error:.1f`% (chance:
{glue:text}`chance_top1:.0f`%) and its top-5 error {glue:text}`top5_error:.1f`%. Data: {glue:text}`data_note`.

## Figure 3: the conv1 kernels of the two towers

The paper says one tower's kernels are "largely color-agnostic" and the other's "largely color-specific". To measure
this, take each kernel $w$ (11x11 positions, 3 colours), subtract its mean over all 363 weights (a uniform grey
offset, which responds only to overall brightness), and split every position's RGB vector into its component along
the grey direction $(1,1,1)/\sqrt{3}$ and the rest:

$$
\text{colour specificity}(w) = \frac{\sum_{x,y} \lVert w_{xy} - \bar w_{xy}\,(1,1,1) \rVert^2}{\sum_{x,y} \lVert w_{xy} - \bar w \rVert^2},
\qquad \bar w_{xy} = \tfrac13 (w^R_{xy} + w^G_{xy} + w^B_{xy}),
$$

where $\bar w$ is the mean over all weights. A kernel with $R = G = B$ everywhere (an edge or a blob in grey)
scores 0; one whose channels sum to zero everywhere (a red-green or blue-yellow edge, blind to brightness) scores 1.
A uniform colour tint counts as colour. Random weights score $2 \cdot 121 / 362 = $ {glue:text}`random_baseline:.3f`,
because two of the three colour directions are chromatic: that is where an untrained conv1 sits. Each tower's value is
the mean over its 48 kernels; a permutation test asks whether a random split of the same 96 kernels into two groups of
48 would give as large a gap between the means. `tests/test_qualitative.py` checks the statistic on constructed grey,
colour-opponent, tinted and random kernels.

The kernels are shown as the paper shows them, each min-max normalised on its own."""),
code('''kernels = Q.conv1_kernels(run.model)
stats = Q.tower_colour_stats(kernels)
pvalue = Q.tower_gap_pvalue(stats[0].values, stats[1].values, permutations=20_000, seed=0)
verdict = Q.colour_verdict(stats, pvalue)
fig = viz.filter_grid(kernels, stats=[s.mean for s in stats],
                      title="conv1 kernels (Figure 3); colour specificity = non-grey share of energy")
plt.show()
glue("random_baseline", Q.random_kernel_baseline(), display=False)
glue("tower1_colour", stats[0].mean, display=False)
glue("tower2_colour", stats[1].mean, display=False)
glue("tower_gap_p", pvalue, display=False)
glue("colour_verdict", verdict, display=False)
table = pd.DataFrame([s.as_dict() for s in stats])
table.rename(columns={"mean": "mean colour specificity"}).style.format(precision=3).hide(axis="index")'''),
code('''fig, ax = plt.subplots(figsize=(7, 3))
bins = torch.linspace(0, 1, 26).tolist()
for s in stats:
    values = s.values[~torch.isnan(s.values)].numpy()
    ax.hist(values, bins=bins, alpha=0.6, label=f"tower {s.tower} (mean {s.mean:.2f})")
ax.axvline(Q.random_kernel_baseline(), color="black", ls="--", lw=1, label="random weights")
ax.set_xlabel("colour specificity of a kernel (0: grey, 1: pure colour)")
ax.set_ylabel("kernels")
ax.set_title("colour specificity of each conv1 kernel, by tower")
ax.legend(fontsize=8)
plt.show()'''),
md(r"""Tower 1's kernels score {glue:text}`tower1_colour:.2f` on average and tower 2's {glue:text}`tower2_colour:.2f`
(random weights: {glue:text}`random_baseline:.2f`). In words: {glue:text}`colour_verdict`.

Which tower becomes the colour-agnostic one is arbitrary: the towers are symmetric at the start, so the paper's
"GPU 1" is whichever tower happens to specialise that way (the paper: the specialisation "occurs during every run
and is independent of any particular random weight initialization (modulo a renumbering of the GPUs)"). While the kernels are still close to their random
start, as after a short run on small images, both towers sit near the random value; the paper's specialisation
comes from many epochs on full-size images, which the `full` profile can show.

## Figure 4 (left): the five most probable labels

As in the paper, eight held-out images, each with the model's five most probable classes and their probabilities;
the correct class, when it is among the five, is drawn in red."""),
code('''shown = Q.pick_queries(run.val_labels, settings["predictions"], seed=settings["seed"])
preds = Q.predictions(val_logits[shown], k=5)
fig = viz.prediction_panels(run.val_images[shown], preds.probs, preds.indices,
                            run.class_names, targets=run.val_labels[shown], mean=run.mean)
plt.show()
shown_top5 = preds.correct(run.val_labels[shown])[1].double().mean().item()
glue("shown_top5_hits", int(round(shown_top5 * len(shown))), display=False)
glue("n_shown", len(shown), display=False)'''),
md(r"""For {glue:text}`shown_top5_hits` of these {glue:text}`n_shown` images the correct class is among the five.

## Figure 4 (right): nearest neighbours in the last hidden layer and in pixel space

The paper's argument that the network has learned something beyond pixel similarity: "If two images produce feature
activation vectors with a small Euclidean separation, we can say that the higher levels of the neural network
consider them to be similar." Beside each held-out image (left), the upper row holds the six training images whose
fc7 output is closest to its fc7 output (Euclidean distance), nearest first, and the lower row the six training
images closest in pixel space (Euclidean distance between the preprocessed, mean-subtracted crops). Captions give
each image's class, in red where it differs from the held-out image's."""),
code('''gallery_features = Q.hidden_features(run.model, run.gallery_images)
queries = Q.pick_queries(run.val_labels, settings["neighbour_queries"], seed=settings["seed"] + 1)
nb = Q.neighbours(run.model, run.val_images[queries], run.gallery_images,
                  k=settings["neighbours"], gallery_features=gallery_features,
                  query_features=val_features[queries])
fig = viz.neighbour_panels(run.val_images[queries], run.gallery_images, nb.feature_idx,
                           nb.pixel_idx, run.class_names, run.val_labels[queries],
                           run.gallery_labels, mean=run.mean)
plt.show()'''),
md(r"""Over a handful of rows, chance decides a lot. Over every held-out image the picture is clearer: the share of the
six neighbours that have the held-out image's class, in each space, and how many of the feature-space neighbours are
also pixel-space neighbours."""),
code('''everything = Q.neighbours(run.model, run.val_images, run.gallery_images,
                          k=settings["neighbours"], gallery_features=gallery_features,
                          query_features=val_features)
feature_same, pixel_same = everything.same_class(run.val_labels, run.gallery_labels)
overlap = everything.overlap()
glue("feature_same_class", 100 * feature_same, display=False)
glue("pixel_same_class", 100 * pixel_same, display=False)
glue("neighbour_overlap", 100 * overlap, display=False)
glue("chance_same_class", 100 / len(run.class_names), display=False)
chance = 1 / len(run.class_names)
glue("neighbour_verdict", Q.neighbour_verdict(feature_same, pixel_same, chance), display=False)
pd.DataFrame({
    "space": ["last hidden layer (fc7)", "pixels"],
    "neighbours of the query's class (%)": [100 * feature_same, 100 * pixel_same],
}).style.format(precision=1).hide(axis="index")'''),
md(r"""Of the six nearest training images in the last hidden layer, {glue:text}`feature_same_class:.1f`% share the
held-out image's class; of the six nearest in pixel space, {glue:text}`pixel_same_class:.1f`% (a random training
image: {glue:text}`chance_same_class:.0f`%). {glue:text}`neighbour_overlap:.1f`% of the feature-space neighbours are
also pixel-space neighbours. In words: {glue:text}`neighbour_verdict`.

## What agrees with the paper, and what does not

* **Figure 4, right** (close in the last hidden layer, not in pixels): {glue:text}`neighbour_verdict`.
* **Figure 3** (one colour-agnostic tower, one colour-specific): {glue:text}`colour_verdict`. The paper's
  specialisation comes from long training on ImageNet; this page reports the measured statistic and a permutation
  test rather than reading a pattern into the pictures.
* **Figure 4, left**: the labels are only as good as the model: a top-1 error of {glue:text}`top1_error:.1f`% here,
  against the paper's 37.5% on 1,000 ImageNet classes.

Under the `ci` profile all of this comes from a model trained for about a minute, on {glue:text}`data_note`. Rerun
with `profile="full"` and `checkpoint=` a model trained on ImageNet (`python -m alexnet train`) to test the paper's
claims at its scale."""),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
nbf.write(nb, "notebooks/06_1_qualitative.ipynb")
print("wrote notebooks/06_1_qualitative.ipynb")
