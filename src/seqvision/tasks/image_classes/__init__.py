"""Image classes (digits): one class per image, read column by column; synthetic digit data sets."""
