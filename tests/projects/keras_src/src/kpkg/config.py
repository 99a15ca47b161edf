HIDDEN_ACTIVATION = "relu"
KERNEL_INIT = "glorot_uniform"
OUTPUT_ACTIVATION = "sigmoid"
