"""The decisions behind `drill setup`'s pulls (MongoDB's image) and the drills a missing image leaves out."""

import json

from hypothesis import given
from hypothesis import strategies as st

from drills.components.base import PulledImage
from drills.components.registry import pulled_images
from drills.provision.pulled_image import (
    Action,
    PullFailure,
    check_name,
    decide,
    fix_text,
    forget_failure,
    last_failure,
    memo_path,
    remember_failure,
)
from drills.provision.requirements import describe, image_for, left_out, stand_ins, unmet

MONGO = "mongo:7"


def answers(mongo_image):
    return {MONGO: mongo_image}

TTL = 6 * 3600.0
images = st.sampled_from(["mongo:7", "registry.example/mongo:7", "mirror.local:5000/mongo:7"])
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@given(image=images, other=images, at=times, age=st.floats(-1e6, 1e6, allow_nan=False),
       retry=st.booleans(), remembered=st.booleans())
def test_decide(image, other, at, age, retry, remembered):
    failure = PullFailure(other, at, "no such host") if remembered else None
    now = at + age
    assert decide(present=True, image=image, failure=failure, now=now, retry=retry) is Action.HAVE
    action = decide(present=False, image=image, failure=failure, now=now, retry=retry, retry_after_s=TTL)
    skip = (not retry and failure is not None and other == image and 0 <= now - at < TTL)
    assert action is (Action.SKIP if skip else Action.PULL)


def test_a_recent_failure_is_not_retried_until_it_expires_or_retry_is_asked():
    failure = PullFailure("mongo:7", 1000.0, "dial tcp: no such host")
    assert decide(present=False, image="mongo:7", failure=failure, now=1000.0, retry=False) is Action.SKIP
    assert decide(present=False, image="mongo:7", failure=failure, now=1000.0 + TTL - 1, retry=False,
                  retry_after_s=TTL) is Action.SKIP
    assert decide(present=False, image="mongo:7", failure=failure, now=1000.0 + TTL, retry=False,
                  retry_after_s=TTL) is Action.PULL
    assert decide(present=False, image="mongo:7", failure=failure, now=1001.0, retry=True) is Action.PULL
    # Another image (the user pointed DRILLS_MONGO_IMAGE at a mirror): tried at once.
    assert decide(present=False, image="registry.example/mongo:7", failure=failure, now=1001.0,
                  retry=False) is Action.PULL
    # A clock set back: the age is unknown, so try rather than skip.
    assert decide(present=False, image="mongo:7", failure=failure, now=999.0, retry=False) is Action.PULL


def test_the_failure_memo_round_trips_and_a_damaged_one_means_try_again(tmp_path):
    path = tmp_path / "memo.json"
    assert last_failure(path) is None
    remember_failure(PullFailure("mongo:7", 12.5, "no such host"), path)
    assert last_failure(path) == PullFailure("mongo:7", 12.5, "no such host")
    assert [p.name for p in tmp_path.iterdir()] == ["memo.json"], "no temporary file left behind"
    for damaged in ("", "{", json.dumps({"image": "mongo:7"}), json.dumps([1, 2]), json.dumps({"image": "m", "at": "x",
                                                                                            "error": ""})):
        path.write_text(damaged)
        assert last_failure(path) is None, damaged
    forget_failure(path)
    forget_failure(path)  # twice: nothing there is fine
    assert not path.exists()


def test_the_sites_own_image_answers_mongo_7():
    assert image_for(MONGO, answers("mongo:7")) == "mongo:7"
    assert image_for(MONGO, answers("registry.example/mongo:7")) == "registry.example/mongo:7"
    assert image_for("redis:7", answers("registry.example/mongo:7")) == "redis:7"
    assert describe(MONGO, answers("mongo:7")) == "mongo:7"
    assert describe(MONGO, answers("registry.example/mongo:7")) == "registry.example/mongo:7 (for mongo:7)"
    only_mirror = {"registry.example/mongo:7"}.__contains__
    assert unmet([MONGO], only_mirror, answers("registry.example/mongo:7")) == []
    assert unmet([MONGO], only_mirror, answers("mongo:7")) == [MONGO]


def test_the_mongodb_image_is_a_pulled_image_its_variable_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    mongo = next(p for p in pulled_images() if p.profile == "mongo")
    assert (mongo.reference, mongo.variable, mongo.kind, mongo.name) == (
        MONGO, "DRILLS_MONGO_IMAGE", "mongo", "MongoDB")
    assert mongo.image({}) == MONGO and mongo.image({"DRILLS_MONGO_IMAGE": " "}) == MONGO
    monkeypatch.setenv("DRILLS_MONGO_IMAGE", "registry.example/mongo:7")
    assert stand_ins(pulled_images())[MONGO] == "registry.example/mongo:7"
    # What users read and what older setups left on disk stay as they were.
    assert check_name(mongo) == "mongo image" and memo_path(mongo).name == "mongo-pull-failed.json"
    assert fix_text(mongo, "x/mongo:7") == (
        "docker pull x/mongo:7 where a registry answers (here: `drill setup --retry-pull`); offline: "
        "`docker save x/mongo:7 -o mongo.tar` on a machine that has it, then `docker load -i mongo.tar`; "
        "or point DRILLS_MONGO_IMAGE at your own image (e.g. registry.example/mongo:7)")


def test_each_profile_is_pulled_once():
    profiles = [p.profile for p in pulled_images()]
    assert len(profiles) == len(set(profiles)) and all(isinstance(p, PulledImage) for p in pulled_images())


requirement = st.sampled_from([MONGO, "redis:7", "minio/minio:latest", "etcd:3"])
scenario_ids = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)


@given(requires=st.lists(requirement, max_size=6), here=st.sets(st.sampled_from(
    ["mongo:7", "registry.example/mongo:7", "redis:7", "minio/minio:latest", "etcd:3"])),
    mongo_image=st.sampled_from(["mongo:7", "registry.example/mongo:7"]))
def test_unmet(requires, here, mongo_image):
    missing = unmet(requires, here.__contains__, answers(mongo_image))
    assert len(missing) == len(set(missing))
    assert missing == [r for r in dict.fromkeys(requires) if image_for(r, answers(mongo_image)) not in here]


@given(scenarios=st.dictionaries(scenario_ids, st.lists(requirement, max_size=3), max_size=8),
       here=st.sets(st.sampled_from(["mongo:7", "redis:7", "minio/minio:latest", "etcd:3"])))
def test_left_out_lists_exactly_the_scenarios_an_absent_image_stops(scenarios, here):
    asked: list[str] = []

    def present(image):
        asked.append(image)
        return image in here

    out = left_out(scenarios.items(), present, answers("mongo:7"))
    assert len(asked) == len(set(asked)), "each image is looked up once"
    for req, ids in out.items():
        assert req not in here and ids == sorted(ids) and ids
    for sid, requires in scenarios.items():
        stopped_by = {r for r in requires if r not in here}
        assert stopped_by == {r for r, ids in out.items() if sid in ids}
