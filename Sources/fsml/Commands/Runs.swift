import ArgumentParser
import Foundation
import FsmlCore
import Tracking

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, promote, delete and restore tracked runs.",
        discussion: """
            Runs live in MLflow's file-store layout; MLflow reads them with \
            MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri experiments. \
            A RUN is a run id, an id prefix of at least 4 characters, or a run name.
            """,
        subcommands: [RunsList.self, RunsShow.self, RunsPromote.self, RunsDelete.self, RunsRestore.self]
    )
}
