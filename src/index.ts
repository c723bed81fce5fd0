export const KIT_NAME = "tiny-compression-kit";
