// @d-engine/proto/testing: seeded random messages for the tests of the hand-written codecs, in
// whichever package they live (the client's Pipeline codec, the server's Pipeline reader and
// writer), so that every codec is checked against protobuf-es on the same kinds of values.
// Tests only: nothing at runtime imports this entry.
export * from "./random-pipeline.js";
export * from "./seeded-rng.js";
