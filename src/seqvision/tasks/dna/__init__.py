"""DNA/RNA: FASTA/TSV readers, one-hot batches, ranking metrics, motifs, the SequenceClassifier and the task."""
