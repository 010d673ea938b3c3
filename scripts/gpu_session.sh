#!/usr/bin/env bash
# Runbook for a session that has the `device` tool (one H100/H200, 30 device-minutes, 10 minutes a command).
#
# Everything the GPU work needs travels in the git-ignored folder .gpu/ (about 30 MB: the face2genshin data set
# and the reference CycleGAN script); training runs live in .gpu-runs/ on the device machine, which keeps ignored
# folders between calls while it stays warm, so a run is continued by the next call with --resume.
#
#   here:    bash scripts/gpu_session.sh prepare                  # fills .gpu/ from ../shared
#   device:  run(command="bash scripts/gpu_session.sh bench", carry=[".gpu"])
#            -> $OUT/RESULTS.md: the five benchmarks on CUDA, in the same process as the reference
#   device:  run(command="bash scripts/gpu_session.sh train face2anime 8", carry=[".gpu"])
#            -> trains (or continues) for at most 8 minutes, stops with a checkpoint (SIGTERM is a graceful stop),
#               then copies the run's exported models, config, status, metrics and latest sample grid to
#               $OUT/face2anime/, files over 15 MiB split into .partNN pieces
#   here:    bash scripts/gpu_session.sh join /path/of/files_at/face2anime runs/face2anime-gpu
#            -> a run folder (models/, config.json, ...) that the make_bundled_*.py scripts read, e.g.
#   here:    python scripts/make_bundled_face2anime.py --run runs/face2anime-gpu --hardware "$(cat .../hardware.txt)"
#            (their card texts still say "CPU preview": reword them for a GPU-trained model)
#   device:  bash scripts/gpu_session.sh collect .gpu-runs/KIND   # bring back what a failed call left
#
# Kinds: face2anime (CycleGAN, resnet_9blocks, 256 px), sketch2face / sketch2anime (pix2pix, unet_256, 256 px),
# stylegan (StyleGAN faces, 128 px). Extra arguments after the minutes go to `ganstudio train` (e.g. --batch 16).
# Locally, `GPU_SESSION_DEVICE=cpu` with `--preset tiny --steps 4` rehearses the whole path without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GPU_DIR="$ROOT/.gpu"
RUNS="$ROOT/.gpu-runs"
PY=${PYTHON:-python3}
[ -x "$ROOT/.venv/bin/python" ] && [ -z "${PYTHON:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1 && PY="$ROOT/.venv/bin/python"
DEVICE=${GPU_SESSION_DEVICE:-cuda}
OUT=${OUT:-$ROOT/out}
SPLIT_MB=${GS_SPLIT_MB:-15}  # $OUT brings back files up to 16 MiB

shared_env() {
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
    export GANSTUDIO_SHARED="$GPU_DIR/shared"
    export GANSTUDIO_REFERENCE="$GPU_DIR/shared/bench/reference_cyclegan.py"
    export GANSTUDIO_HOME="$RUNS/home"
}

cmd_prepare() {
    local src=${1:-$ROOT/../shared}
    mkdir -p "$GPU_DIR/shared/datasets" "$GPU_DIR/shared/bench"
    cp -r "$src/datasets/face2genshin" "$GPU_DIR/shared/datasets/"
    cp "$src/bench/reference_cyclegan.py" "$GPU_DIR/shared/bench/"
    du -sh "$GPU_DIR"
    echo "carry: [\".gpu\"] (limit 64 MiB)"
}

hardware() {
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1
    else
        echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(nproc) cores)"
    fi
}

cmd_bench() {
    shared_env
    mkdir -p "$OUT"
    hardware | tee "$OUT/hardware.txt"
    local s=0
    $PY benchmarks/bench_translate.py --device "$DEVICE" --write || s=1
    $PY benchmarks/bench_train.py --device "$DEVICE" --size 256 || s=1
    $PY benchmarks/bench_metrics.py --device "$DEVICE" || s=1
    $PY benchmarks/bench_draw.py --device "$DEVICE" --write || s=1
    $PY benchmarks/bench_latent.py --device "$DEVICE" --size 256 --preset standard --write || s=1
    cp benchmarks/RESULTS.md "$OUT/RESULTS.md"
    return $s
}

train_args() {  # kind -> ganstudio train arguments for a fresh run
    local data="$GPU_DIR/shared/datasets/face2genshin"
    case "$1" in
        face2anime) echo "cyclegan --a $data/trainA --b $data/trainB --preset standard --name face2anime" ;;
        sketch2face) echo "pix2pix --data $data/trainA --paired-format sketch --preset standard --name sketch2face" ;;
        sketch2anime) echo "pix2pix --data $data/trainB --paired-format sketch --preset standard --name sketch2anime" ;;
        stylegan) echo "stylegan --data $data/trainA --preset quick --size 128 --name stylegan-faces" ;;
        *) echo "unknown kind '$1' (face2anime, sketch2face, sketch2anime, stylegan)" >&2; return 2 ;;
    esac
}

cmd_train() {
    local kind=${1:?kind} minutes=${2:-8}
    shift 2 || shift $#
    shared_env
    local run="$RUNS/$kind" args
    args=$(train_args "$kind")
    mkdir -p "$RUNS" "$OUT"
    local rc=0
    if [ -f "$run/config.json" ]; then
        timeout -s TERM -k 60 "$((minutes * 60))" $PY -m app train ${args%% *} --resume "$run" "$@" || rc=$?
    else
        # shellcheck disable=SC2086
        timeout -s TERM -k 60 "$((minutes * 60))" $PY -m app train $args --out "$run" --device "$DEVICE" "$@" \
            || rc=$?
    fi
    # 124: the time limit stopped it (gracefully, with a checkpoint); anything else but 0 is a failure
    [ "$rc" = 0 ] || [ "$rc" = 124 ] || { echo "training failed (exit $rc)" >&2; return "$rc"; }
    collect "$run" "$OUT/$kind"
}

collect() {  # run folder -> $OUT/<kind>: what packaging needs, not the (large) optimiser checkpoints
    local run=$1 dest=$2
    mkdir -p "$dest/models" "$dest/samples"
    cp "$run"/config.json "$run"/status.json "$run"/metrics.jsonl "$dest/" 2>/dev/null || true
    tail -n 200 "$run/train.log" > "$dest/train.log" 2>/dev/null || true
    hardware > "$dest/hardware.txt"
    local last
    last=$(ls -1 "$run/samples" 2>/dev/null | sort | tail -n 1 || true)
    [ -n "$last" ] && cp "$run/samples/$last" "$dest/samples/"
    : > "$dest/SHA256SUMS"
    for f in "$run"/models/*.safetensors; do
        [ -f "$f" ] || continue
        (cd "$run" && sha256sum "models/$(basename "$f")") >> "$dest/SHA256SUMS"
        if [ "$(stat -c %s "$f")" -gt $((SPLIT_MB * 1024 * 1024)) ]; then
            split -b "${SPLIT_MB}M" -d -a 2 "$f" "$dest/models/$(basename "$f").part"
        else
            cp "$f" "$dest/models/"
        fi
    done
    echo "collected $(find "$dest" -type f | wc -l) files into $dest"
}

cmd_join() {  # files_at/<kind> -> run folder with whole model files
    local src=${1:?folder brought back} dest=${2:?run folder to write}
    mkdir -p "$dest/models"
    cp -r "$src"/. "$dest/"
    local part
    for part in "$dest"/models/*.part00; do
        [ -f "$part" ] || continue
        local whole=${part%.part00}
        cat "$whole".part?? > "$whole.tmp" && mv "$whole.tmp" "$whole" && rm -f "$whole".part??
    done
    if [ -s "$dest/SHA256SUMS" ]; then
        if ! (cd "$dest" && sha256sum -c --quiet SHA256SUMS); then
            echo "a joined model does not match its checksum: a piece is missing or damaged (FAILED)" >&2
            return 1
        fi
        echo "model checksums OK"
    fi
    echo "run folder: $dest ($(ls "$dest/models" | tr '\n' ' '))"
}

case "${1:-}" in
    prepare) shift; cmd_prepare "$@" ;;
    bench) cmd_bench ;;
    train) shift; cmd_train "$@" ;;
    collect) shift; collect "${1:?run folder}" "${2:-$OUT/$(basename "$1")}" ;;
    join) shift; cmd_join "$@" ;;
    *) sed -n '2,23p' "$0"; exit 2 ;;
esac
