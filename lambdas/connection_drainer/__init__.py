"""Connection drainer Lambda: terminates application sessions on a (demoted) cluster."""
