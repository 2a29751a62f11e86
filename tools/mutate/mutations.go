package main

// mutations are the regressions the suite must catch. Each names the test that should notice it
// (Run) so a run takes seconds, not the whole suite.
var mutations = []mutation{}
