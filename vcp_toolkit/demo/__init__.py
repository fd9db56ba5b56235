"""The end-to-end demos behind `vcp demo`: signed, optimistic and zk."""
