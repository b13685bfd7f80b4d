"""The stock side of posting: balance locks and moves, FIFO cost layers, batches (lots), serial numbers, units."""
